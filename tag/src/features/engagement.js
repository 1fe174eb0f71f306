// Optional: engaged time and scroll depth (data-engagement), recorded when
// the page is hidden and when an SPA route is left. engaged_ms counts visible
// time since the previous engagement event of the page; scroll_pct is the
// deepest point of the page seen in this view (bottom of the viewport,
// percent). A route change or a back/forward cache restore starts a view.
import { onLeave, record } from '../capture.js'
import { d, now, on, w } from '../util.js'

export function engagement() {
  let acc = 0
  let since = 0
  let top = 0
  const tick = () => {
    const t = now()
    if (since) acc += t - since
    since = d.visibilityState == 'visible' ? t : 0
  }
  const scroll = () => {
    const p = Math.round((100 * (scrollY + innerHeight)) / d.documentElement.scrollHeight)
    if (p > top) top = p > 100 ? 100 : p
  }
  tick()
  scroll()
  on(d, 'visibilitychange', tick)
  on(w, 'scroll', scroll)
  // Shown again from the back/forward cache: a new page view, counted from
  // now (the previous one's engagement was recorded on pagehide).
  on(w, 'pageshow', (e) => e.persisted && (tick(), (acc = top = 0), scroll()))
  onLeave((url, changed) => {
    tick()
    if (acc) record('engagement', { url, props: { engaged_ms: acc, scroll_pct: top } })
    acc = 0
    // Leaving the page (not an SPA route): stop the clock, or the visibilitychange
    // that follows pagehide would count a few more milliseconds as a second event.
    if (!changed) since = 0
    if (changed) {
      top = 0
      scroll()
    }
  })
}
