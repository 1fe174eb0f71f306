// Visitor and session identity.
//  cookie + localStorage "_tt": the visitor id (13 months, renewed on use)
//  localStorage "_tt_s": the session {sid, sn (index), land: {url, ref},
//    t: last activity ms, c: campaign parameters of the landing}
import { campaign } from './campaign.js'
import { site } from './config.js'
import { load, ls, none, store } from './storage.js'
import { nav, uuid } from './util.js'

export const IDLE = 18e5 // a session ends after 30 minutes without events

// Touch the session at time t for an event on `url`; `ref` is the referrer
// a session starting now would record. Returns the beacon envelope. Its ctx
// has no time zone: reading it (Intl.DateTimeFormat) cost a first visit tens
// of milliseconds of main thread; the collector derives it from geo.
export const session = (t, url, ref) => {
  let s = ls('_tt_s') || {} // first: finds out whether storage works (none)
  let vid = (none ? ls : load)('_tt') || uuid()
  let c = campaign(url)
  // No session yet (s.t undefined: the comparison is false), idle too long, or another campaign.
  // -~n is n + 1, and 1 for no n.
  // The visitor cookie is written (and its 13 months renewed) when a session
  // starts, not on every event: each cookie write makes the next read of
  // document.cookie a synchronous round trip to the browser's cookie store.
  if (!(t - s.t <= IDLE) || (c && c != s.c)) (s = { sid: uuid(), sn: -~s.sn, land: { url, ref }, c }), store('_tt', vid)
  s.t = t
  ls('_tt_s', s)
  return { v: 2, site, vid, sid: s.sid, sn: s.sn, land: s.land, ctx: { sw: screen.width, sh: screen.height, lang: nav.language, storage: none } }
}

// Forget the visitor (opt-out, consent withdrawn).
export const forget = () => {
  store('_tt', '')
  ls('_tt_s', '')
}
