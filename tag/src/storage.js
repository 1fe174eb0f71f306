// First-party storage: a cookie on the highest domain that accepts one
// (example.com for www.shop.example.com), mirrored in localStorage, which is
// the fallback when cookies are blocked.
//
// `none` says why nothing is stored: 'gpc' (Global Privacy Control is on and
// the site did not set data-gpc="ignore") or 'none' (localStorage throws:
// cookies and storage blocked). Then the visitor id, session and retry queue
// live in page memory only (a new visitor on each page load), no cookie is
// written (an opt-out then holds for the page; one made before still holds),
// the visitor id is never read from one (an id left from an earlier visit
// would link this one), and every beacon says so in ctx.storage, so reports
// can show the share of such visits.
import { attr } from './config.js'
import { d, json, loc, nav } from './util.js'

let dom
export let none = nav.globalPrivacyControl && attr('gpc') != 'ignore' ? 'gpc' : void 0
// localStorage, or page memory when nothing may or can be stored. Looked
// up on first use, not when the script runs: the first access to
// localStorage opens the origin's storage with a synchronous round trip to
// the browser process, which the script's own run need not wait for.
let s

const cookie = (k) => d.cookie.match('(^|; )' + k + '=([^;]*)')?.[2]

// 34128000 s = 395 days (13 months; browsers cap cookies at 400 days).
// Always Secure: on a plain http page the browser refuses the cookie and the
// localStorage copy is used instead.
const put = (k, v, dm) =>
  none ||
  (d.cookie = k + '=' + v + ';path=/;secure;max-age=' + (v ? 34128e3 : 0) + (dm ? ';domain=' + dm : ''))

// localStorage, as JSON: ls(k) reads (undefined when missing, corrupt or
// unavailable), ls(k, v) writes, ls(k, '') removes. A missing key is not
// given to JSON.parse: JSON.parse(undefined) throws, and even a caught
// exception cost a visitor's first page view about 1 ms of main thread
// (the tag reads missing keys on every page view: the opt-out, the retry
// queue).
export const ls = (k, v) => {
  try {
    s ||= none ? {} : localStorage
  } catch {
    s = {}
    none = 'none'
  }
  try {
    return v == null ? s[k] && JSON.parse(s[k]) : v ? (s[k] = json(v)) : delete s[k]
  } catch {}
}

export const load = (k) => cookie(k) || ls(k)

// Store k in the cookie and in localStorage ('' deletes it); without
// storage, only in page memory.
export const store = (k, v) => {
  if (dom == null) {
    dom = ''
    // Try example.com, shop.example.com, www.shop.example.com (never the
    // top-level domain alone): the first one that takes a probe cookie wins
    // (browsers refuse public suffixes: co.uk, github.io). Shortest first:
    // most sites' root is found at the first try, one cookie write and read
    // instead of one per label. A single-label host keeps a host-only cookie.
    for (let p = loc.hostname.split('.'), i = p.length - 1, h; !dom && i--; ) {
      put('_tt_t', 1, (h = p.slice(i).join('.')))
      cookie('_tt_t') && put('_tt_t', '', (dom = h))
    }
  }
  put(k, v, dom)
  ls(k, v)
}
