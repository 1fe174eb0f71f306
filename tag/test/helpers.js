// Test harness: loads the tag's modules fresh into jsdom for each scenario,
// records what it sends, and undoes everything it touched afterwards.
import { afterEach, beforeEach, vi } from 'vitest'

export const T0 = Date.UTC(2025, 10, 26, 12, 0, 0) // fixed clock for every test

// Listeners the tag adds, so they can be removed between scenarios. The
// test environment gives the global object its own addEventListener (bound
// to jsdom's window), which EventTarget.prototype does not reach: both are
// watched, or window listeners of one scenario would hear the next.
const added = []
const watchAdds = (o, add) =>
  (o.addEventListener = function (type, fn, opts) {
    added.push([this || window, type, fn, opts])
    return add.call(this || window, type, fn, opts)
  })
watchAdds(EventTarget.prototype, EventTarget.prototype.addEventListener)
if (Object.hasOwn(window, 'addEventListener')) watchAdds(window, window.addEventListener)

const patched = []
// Override a browser property (navigator.webdriver, document.hidden ...) for
// one test: a value, or a full property descriptor with `desc`.
export function fake(o, k, value, desc) {
  patched.push([o, k, Object.getOwnPropertyDescriptor(o, k)])
  Object.defineProperty(o, k, { configurable: true, ...(desc || { value, writable: true }) })
}

// The script element the tag reads its settings from (document.currentScript).
export function script(attrs = {}) {
  const s = document.createElement('script')
  s.src = 'https://collect.example.com/tt.js'
  for (const [k, v] of Object.entries({ site: 'demo', 'allow-automation': '', ...attrs }))
    if (v != null) s.setAttribute('data-' + k, v)
  fake(document, 'currentScript', s)
  return s
}

// Import a module of src/ fresh (module state reset), as if the page had
// just loaded with this URL, referrer and script attributes.
export async function load(path, { url = 'https://www.example.com/', referrer = '', attrs, title = 'Home' } = {}) {
  vi.resetModules()
  jsdom.reconfigure({ url })
  document.title = title
  fake(document, 'referrer', referrer)
  script(attrs)
  return import('../src/' + path)
}

// Leave the current page: what the tag hooked (listeners, history, timers)
// goes away; storage and cookies stay, as in a browser.
export function unload() {
  vi.clearAllTimers()
  for (const [t, type, fn, opts] of added.splice(0)) t.removeEventListener(type, fn, opts)
  delete history.pushState
  delete history.replaceState
  delete window.tt
}

// A page load: the snippet's stub (with queued calls), then the tag.
export async function boot({ queue = [], stub = true, ...page } = {}) {
  unload()
  if (stub) {
    window.tt = function () {
      ;(window.tt.q = window.tt.q || []).push(arguments)
    }
    for (const args of queue) window.tt(...args)
  }
  await load('main.js', page)
  // The tag starts in a task of its own, right after its script ran.
  await vi.advanceTimersByTimeAsync(0)
}

// The collector: fetch and sendBeacon stubs. `reply(body, n)` returns
// {status, headers} or an Error (network failure) for the n-th request.
export function collector(reply = () => ({ status: 202 })) {
  const requests = []
  const fetch = vi.fn(async (url, init) => {
    const r = { url, init, via: 'fetch', body: JSON.parse(init.body) }
    requests.push(r)
    const res = await reply(r.body, requests.length)
    if (res instanceof Error) throw res
    return { ok: res.status < 300, status: res.status, headers: new Headers(res.headers || {}) }
  })
  vi.stubGlobal('fetch', fetch)
  const sendBeacon = vi.fn((url, data) => {
    requests.push({ url, data, via: 'beacon', body: JSON.parse(data) })
    return true
  })
  fake(navigator, 'sendBeacon', sendBeacon)
  return {
    requests,
    fetch,
    sendBeacon,
    events: (type) => requests.flatMap((r) => r.body.events).filter((e) => !type || e.type == type),
  }
}

// Let timers run (flush debounce, backoff) and promises settle.
export const wait = (ms = 0) => vi.advanceTimersByTimeAsync(ms)

// Page hide as browsers report it.
export function hide() {
  fake(document, 'hidden', true)
  fake(document, 'visibilityState', 'hidden')
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
}

export function show() {
  fake(document, 'hidden', false)
  fake(document, 'visibilityState', 'visible')
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
}

export const cookies = () => document.cookie

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})

afterEach(() => {
  unload()
  vi.useRealTimers()
  for (const [o, k, d] of patched.splice(0).reverse()) d ? Object.defineProperty(o, k, d) : delete o[k]
  jsdom.reconfigure({ url: 'https://www.example.com/' })
  jsdom.cookieJar.removeAllCookiesSync()
  localStorage.clear()
})
