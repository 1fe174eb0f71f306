/*
 * TouchpointTracker tag (tt.js): ES modules bundled into one minified IIFE.
 *
 * Goals, in order:
 *  1. Never break the host page: every entry point (tt() calls, listeners,
 *     timers, the history hook) is wrapped so nothing throws out of it; no
 *     eval, no injected markup, so it runs under a strict CSP.
 *  2. Stay tiny: the core build must stay within 2,032 B gzipped (test/size;
 *     sizes.mjs shows where the bytes go).
 *     Optional features sit behind build-time switches (FEATURE_*, esbuild
 *     `define`) so a build without them does not ship their code. Inside
 *     functions the source says `let`, not `const`: terser keeps either as
 *     written, and `let` is shorter. Module-level functions are arrow
 *     constants: terser joins them into one `var` list, where a `function`
 *     declaration would stay as written.
 *  3. Lose nothing, count nothing twice: failed batches are retried from
 *     localStorage; every event has a UUID so the server drops duplicates.
 *     Count what the visitor sees: a page restored from the back/forward
 *     cache is a page view, a prerendered page only once it is shown.
 *  4. Respect the visitor: nothing on localhost or under automation unless
 *     told, Do Not Track / GPC / consent / opt-out honoured, only first-party
 *     storage, never form field values.
 *
 * Modules: util, config (data- attributes), storage (cookie + localStorage),
 * campaign, identity (visitor, session, landing), transport (batching,
 * retry), capture (events, consent, page views, SPA), api (tt commands),
 * features/* (clicks, forms, engagement, phone: optional).
 */
import { command } from './api.js'
import { active, event, pageview, watch } from './capture.js'
import { attr, flag } from './config.js'
import { flush } from './transport.js'
import { clicks } from './features/clicks.js'
import { engagement } from './features/engagement.js'
import { forms } from './features/forms.js'
import { phone } from './features/phone.js'
import { d, later, loc, nav, on, safe, w } from './util.js'

// The whole bundle runs inside try/catch (see build.mjs), so no error escapes.
// Off on a developer's machine or under automation unless told: the page's
// console says so once, with the attribute that turns it on.
const off = ['localhost', 'automation'].find(
  (x, i) => !flag('allow-' + x) && (i ? nav.webdriver : /^(localhost|127\.[\d.]+|\[::1\]|)$/.test(loc.hostname)) /* '' is file: */,
)
off && console.info('tt.js off (' + off + '): add data-allow-' + off)
const blocked = off || (flag('dnt') && (nav.doNotTrack == 1 || nav.globalPrivacyControl))
const q = w.tt?.q || []
// Everything that records, from the first page view on. A page the browser
// prerenders (speculation rules) records nothing until the visitor opens it
// (prerenderingchange), and nothing at all if it is discarded; tt() calls
// made meanwhile wait in the queue.
const start = () => {
  w.tt = safe(command)
  watch()
  if (FEATURE_ENGAGEMENT && flag('engagement')) engagement()
  if (FEATURE_CLICKS) clicks()
  if (FEATURE_FORMS && flag('forms')) forms()
  pageview()
  if (FEATURE_PHONE && attr('phone') && active()) phone()
  if (FEATURE_NOT_FOUND && (flag('404') || d.querySelector('meta[name=tt-404]'))) event('page_not_found')
  // Calls made before the script loaded (or while prerendering), in order,
  // after the first page view.
  q.forEach((a) => w.tt(...a))
  // The first page view (and what the queue added to its batch) goes now,
  // in this task, not in one more.
  flush()
}
// Until then (and for good on a blocked page) tt() queues, or does nothing.
w.tt = (...a) => blocked || q.push(a)
// start() reads and writes storage (the visitor cookie, localStorage): on a
// visitor's first page those are synchronous round trips to the browser
// process of a few milliseconds. It runs in a task of its own, so the
// script's own evaluation (parsing the page waits for it) stays short.
blocked || (d.prerendering ? on(d, 'prerenderingchange', start) : later(start))
