// What gets recorded: events, the consent gate, page views and SPA route
// changes, flushing on page hide.
import { flag } from './config.js'
import { forget, session } from './identity.js'
import { load } from './storage.js'
import { drop, enqueue, flush, wake } from './transport.js'
import { d, loc, now, on, safe, uuid, w } from './util.js'

const hash = FEATURE_HASH && flag('hash')
let consent = !flag('consent') // falsy: waiting for consent, or denied
let last // URL of the current page view
let ref = d.referrer.slice(0, 2e3) // referrer of the current view: the previous route after an SPA change
let leave // engagement hook: leave(url, pageChanged)

export const onLeave = (f) => (leave = f)

// URLs are serialized as ASCII (non-ASCII is percent-encoded), so a plain
// slice never cuts inside a character; capped so that the session's landing
// URL, which every beacon of the session carries, keeps beacons small.
export const here = () => (hash ? loc.href : loc.href.split('#')[0]).slice(0, 2e3)

export const active = () => consent && !load('_tt_o')

// Record one event (dropped, not held, without consent or after opt-out).
// Page views are sent at once, other events batched for a second. A session
// that starts now keeps `ref` as its referrer: after an SPA route change the
// previous route, which the collector drops (of this origin: no external
// referrer), as it drops a same-origin document.referrer.
export const record = (type, x) => {
  let e = { id: uuid(), type, ts: now(), url: here(), ...x }
  active() && enqueue(session(e.ts, e.url, ref), e, type == 'pageview' ? 0 : 1e3)
}

export const event = (name, props) => record('event', { name, props })

// tt('consent', ...): a first grant counts the current page (events before
// it were dropped); denying forgets the visitor. Repeated calls are harmless.
export const setConsent = (granted) => {
  granted ? consent || ((consent = 1), pageview(1)) : ((consent = 0), stop())
}

// Opt-out / consent withdrawn: forget the visitor, drop anything unsent.
export const stop = () => {
  forget()
  drop()
}

// Record a page view unless the URL is unchanged (`force` for tt('pageview')).
export const pageview = (force) => {
  let u = here()
  if (u != last) {
    if (last) {
      FEATURE_ENGAGEMENT && leave && leave(last, 1)
      ref = last
    }
    last = u
    force = 1
  }
  force && record('pageview', { ref, title: d.title })
}

// SPA support: pushState/replaceState/popstate (and hashchange with data-hash);
// page hide sends what is waiting with sendBeacon; online, focus and the page
// shown again retry at once what waits for a retry.
// A history change: a page view if the URL changed (the wrapper keeps the
// listener's event argument from forcing one).
const route = safe(() => pageview())

// The page is going away, or hidden: what waits goes with sendBeacon.
const hide = () => (FEATURE_ENGAGEMENT && leave && leave(last), flush(1))

export const watch = () => {
  ;['pushState', 'replaceState'].forEach((m) => {
    let orig = history[m]
    history[m] = (...a) => ((a = orig.apply(history, a)), route(), a)
  })
  on(w, 'popstate', route)
  hash && on(w, 'hashchange', route)
  on(w, 'visibilitychange', () => (d.hidden ? hide() : wake()))
  on(w, 'pagehide', hide)
  // After an outage: try the waiting retry at once when the network or the visitor comes back.
  on(w, 'online', wake)
  // Back/forward cache: the page comes back as it was left and no script
  // runs again, but the visitor sees it again: one more view, whose referrer
  // is the view before it (so a session that starts with it, after 30 idle
  // minutes in the cache, has no external referrer, as after a route change).
  on(w, 'pageshow', (e) => e.persisted && ((ref = last), pageview(1)))
}
