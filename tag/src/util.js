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

// String, capped (URLs and titles at 2,000 UTF-16 units by default), never
// inside a character: a trailing half of a surrogate pair (an emoji cut in
// two) is dropped, because the collector refuses unpaired surrogates.
export const cut = (s, n) => ('' + s).slice(0, n || 2e3).replace(/\p{Cs}$/u, '')

// Version 4 UUID: crypto.randomUUID exists only in secure contexts; on plain
// http pages a blob: URL supplies one (the File API spec ends every blob URL
// with a freshly generated UUID), revoked at once.
export const uuid = (u) =>
  crypto.randomUUID?.() || (URL.revokeObjectURL((u = URL.createObjectURL(new Blob()))), u.slice(-36))

// Event properties: at most 30 strings (cut to 256 chars), finite numbers
// and booleans, under keys cut to 64 chars; anything else is dropped, and so
// is a props argument that is not a plain object (a string, an array...).
export const clean = (o) =>
  Object.fromEntries(
    Object.entries(o?.constructor == Object && o)
      .filter(([, v]) => Number.isFinite(v) || /^(st|bo)/.test(typeof v))
      .slice(0, 30)
      .map(([k, v]) => [cut(k, 64), v.slice ? cut(v, 256) : v]),
  )
