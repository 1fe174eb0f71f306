// First-party storage: a cookie on the highest domain that accepts one
// (example.com for www.shop.example.com), mirrored in localStorage, which is
// the fallback when cookies are blocked.
import { d, json, loc } from './util.js'

let dom

const cookie = (k) => (d.cookie.match('(^|; )' + k + '=([^;]*)') || [])[2]

// 34128000 s = 395 days (13 months; browsers cap cookies at 400 days).
// Always Secure: on a plain http page the browser refuses the cookie and the
// localStorage copy is used instead.
const put = (k, v, dm) =>
  (d.cookie = k + '=' + v + ';path=/;secure;max-age=' + (v ? 34128e3 : 0) + (dm ? ';domain=' + dm : ''))

// localStorage, as JSON: ls(k) reads (undefined when missing, corrupt or
// unavailable), ls(k, v) writes, ls(k, '') removes.
export const ls = (k, v) => {
  try {
    let s = localStorage
    return v == null ? JSON.parse(s[k]) : v ? (s[k] = json(v)) : delete s[k]
  } catch (e) {}
}

export const load = (k) => cookie(k) || ls(k)

// Store k in the cookie and in localStorage ('' deletes it).
export function store(k, v) {
  if (dom == null) {
    dom = ''
    // Try www.shop.example.com, shop.example.com, example.com: the last one
    // that takes a probe cookie wins (browsers refuse public suffixes: co.uk).
    for (let h = loc.hostname, i; (i = h.indexOf('.') + 1); h = h.slice(i)) {
      put('_tt_t', 1, h)
      cookie('_tt_t') && put('_tt_t', '', (dom = h))
    }
  }
  put(k, v, dom)
  ls(k, v)
}
