// What the visitor sees, not what the browser does in the background: a page
// restored from the back/forward cache is viewed again; a prerendered page is
// viewed only when the visitor opens it.
import { describe, expect, test } from 'vitest'
import { T0, boot, collector, cookies, fake, hide, show, wait } from './helpers.js'

const PAGE = 'https://www.example.com/offer?utm_source=news&utm_medium=email'
const GOOGLE = 'https://www.google.com/'

// Leaving for another page with the page kept in the back/forward cache, in
// Chromium's order: pagehide (persisted) while still "visible", then hidden.
function leave() {
  window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))
  hide()
}

// Coming back to it: shown again, then pageshow with persisted = true. `first`
// swaps the order (browsers differ; the tag must not care).
function restore(first = 'visible') {
  const pageshow = () => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))
  if (first == 'visible') show(), pageshow()
  else pageshow(), show()
}

describe('back/forward cache', () => {
  test('a restored page is one more page view of the same URL, its referrer the view before it', async () => {
    const net = collector()
    await boot({ url: PAGE, referrer: GOOGLE })
    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: false })) // the first load's own pageshow
    await wait(5000)
    leave()
    await wait(60e3)
    restore()
    await wait(1000)
    const views = net.events('pageview')
    expect(views.map((e) => [e.url, e.ref, e.ts])).toEqual([
      [PAGE, GOOGLE, T0],
      [PAGE, PAGE, T0 + 65e3],
    ])
    expect(views[1].id).not.toBe(views[0].id)
    // Same session (a minute in the cache), and the landing is unchanged.
    expect(new Set(net.requests.map((r) => r.body.sid)).size).toBe(1)
    expect(net.requests.at(-1).body.land).toEqual({ url: PAGE, ref: GOOGLE })
  })

  test('restored after an SPA route change: a view of the route, its referrer that route', async () => {
    const net = collector()
    await boot({ url: PAGE, referrer: GOOGLE })
    history.pushState(null, '', '/pricing')
    leave()
    restore()
    await wait(1000)
    const pricing = 'https://www.example.com/pricing'
    expect(net.events('pageview').map((e) => [e.url, e.ref])).toEqual([
      [PAGE, GOOGLE],
      [pricing, PAGE],
      [pricing, pricing],
    ])
  })

  // The restored page itself is the session's referrer: of the page's own origin, so the collector
  // drops it (no external referrer).
  test('restored after 30 idle minutes: a new session that lands on the page, with no external referrer', async () => {
    const net = collector()
    await boot({ url: PAGE, referrer: GOOGLE })
    await wait(0)
    leave()
    await wait(31 * 60e3)
    restore()
    await wait(0)
    const [first, last] = [net.requests[0].body, net.requests.at(-1).body]
    expect(first.sn).toBe(1)
    expect(last.sn).toBe(2)
    expect(last.sid).not.toBe(first.sid)
    // The visitor came back with the back button, not from Google again.
    expect(last.land).toEqual({ url: PAGE, ref: PAGE })
    expect(last.events.map((e) => [e.type, e.url])).toEqual([['pageview', PAGE]])
  })

  test('nothing while the page sits in the cache, and the restore view is sent at once', async () => {
    const net = collector()
    await boot({ url: PAGE })
    await wait(0)
    leave()
    await wait(3 * 3600e3)
    expect(net.requests).toHaveLength(1)
    restore()
    await wait(0)
    expect(net.requests).toHaveLength(2)
    expect(net.requests[1].via).toBe('fetch')
  })

  test('not counted without consent, nor after opt-out', async () => {
    let net = collector()
    await boot({ url: PAGE, attrs: { consent: '' } })
    leave()
    restore()
    await wait(1000)
    expect(net.requests).toHaveLength(0)

    net = collector()
    await boot({ url: PAGE })
    await wait(0)
    tt('optout')
    leave()
    restore()
    await wait(1000)
    expect(net.events('pageview')).toHaveLength(1) // the one before the opt-out
  })

  for (const first of ['visible', 'pageshow'])
    test(`data-engagement: one engagement event per view, the restored one counted from the restore (${first} first)`, async () => {
      const net = collector()
      // A page four viewports high: the top viewport is 25 % of it.
      fake(document.documentElement, 'scrollHeight', 2000)
      fake(window, 'innerHeight', 500)
      const scrollTo = (y) => (fake(window, 'scrollY', y), window.dispatchEvent(new Event('scroll')))
      scrollTo(0)
      await boot({ url: PAGE, attrs: { engagement: '' } })
      scrollTo(1500) // read to the end (100 %)
      scrollTo(250) // then back up, where the link was (38 %)
      await wait(4000)
      leave()
      await wait(10 * 60e3) // in the cache: not engaged time
      restore(first) // back where it was left
      await wait(3000)
      leave()
      await wait(1000)
      const sent = net.events().filter((e) => e.type != 'event')
      expect(sent.map((e) => [e.type, e.ts - T0, e.props])).toEqual([
        ['pageview', 0, undefined],
        ['engagement', 4000, { engaged_ms: 4000, scroll_pct: 100 }],
        ['pageview', 604000, undefined],
        // The restored view's own time and depth: it was not scrolled further.
        ['engagement', 607000, { engaged_ms: 3000, scroll_pct: 38 }],
      ])
    })
})

describe('prerendering', () => {
  const prerender = () => fake(document, 'prerendering', true)
  const activate = () => {
    fake(document, 'prerendering', false)
    document.dispatchEvent(new Event('prerenderingchange'))
  }

  test('nothing is sent or stored while prerendering; the page view comes on activation, then the queued calls', async () => {
    const net = collector()
    prerender()
    await boot({ url: PAGE, referrer: GOOGLE, queue: [['track', 'early']] })
    tt('track', 'while_prerendering', { n: 1 })
    history.pushState(null, '', '/offer?utm_source=news&utm_medium=email&tab=2') // not hooked yet: no view
    await wait(30e3)
    expect(net.requests).toEqual([])
    expect(cookies()).toBe('')
    expect(localStorage.length).toBe(0)

    activate()
    await wait(1000)
    const url = 'https://www.example.com/offer?utm_source=news&utm_medium=email&tab=2'
    expect(net.events().map((e) => [e.type, e.name || e.url, e.ts - T0])).toEqual([
      ['pageview', url, 30e3],
      ['event', 'early', 30e3],
      ['event', 'while_prerendering', 30e3],
    ])
    expect(net.events('pageview')[0].ref).toBe(GOOGLE)
    expect(net.requests[0].body.land).toEqual({ url, ref: GOOGLE })
    // Hooked from the activation on.
    history.pushState(null, '', '/pricing')
    await wait(0)
    expect(net.events('pageview')).toHaveLength(2)
  })

  test('a prerendered page that is discarded sends nothing, ever', async () => {
    const net = collector()
    prerender()
    await boot({ url: PAGE, attrs: { engagement: '', outbound: '', forms: '', 404: '' } })
    tt('track', 'x')
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }))
    hide()
    await wait(60e3)
    expect(net.requests).toEqual([])
    expect(localStorage.length).toBe(0)
  })

  test('tt() without the snippet stub exists during prerendering, queues, and throws nothing', async () => {
    const net = collector()
    prerender()
    await boot({ url: PAGE, stub: false })
    expect(() => tt('track', 'x')).not.toThrow()
    activate()
    await wait(1000)
    expect(net.events().map((e) => e.type)).toEqual(['pageview', 'event'])
  })

  test('a blocked page stays blocked when activated', async () => {
    const net = collector()
    fake(navigator, 'webdriver', true)
    prerender()
    await boot({ url: PAGE, attrs: { 'allow-automation': null } })
    tt('track', 'x')
    activate()
    await wait(1000)
    expect(net.requests).toEqual([])
  })
})
