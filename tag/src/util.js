// Small shared helpers. Aliases for globals let the minifier shorten them.
export const w = window
export const d = document
export const nav = navigator
export const loc = location
export const now = () => Date.now()
export const json = JSON.stringify

// Wrap a callback so nothing it throws can ever reach the host page.
export const safe =
  (f) =>
  (...a) => {
    try {
      return f(...a)
    } catch {}
  }

// Every listener is capturing (sees events the page stops) and guarded.
export const on = (t, e, f) => t.addEventListener(e, safe(f), true)
export const later = (f, ms) => setTimeout(safe(f), ms)

// Version 4 UUID: crypto.randomUUID exists only in secure contexts; on plain
// http pages a blob: URL supplies one (the File API spec ends every blob URL
// with a freshly generated UUID), revoked at once.
export const uuid = (u) =>
  crypto.randomUUID?.() || (URL.revokeObjectURL((u = URL.createObjectURL(new Blob()))), u.slice(-36))
