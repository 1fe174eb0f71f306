import { describe, expect, test } from 'vitest'
import { T0, boot, collector, wait } from './helpers.js'

const LANDING = 'https://www.example.com/offer?utm_source=news&utm_medium=email&gclid=G1'
const GOOGLE = 'https://www.google.com/'

// Change the URL the way a router does without going through the tag's hook.
const silently = (url) => History.prototype.pushState.call(history, null, '', url)

describe('page views', () => {
  test('one page view on load, sent at once, with URL, referrer, title and landing', async () => {
    const net = collector()
    await boot({ url: LANDING, referrer: GOOGLE, title: 'Spring offer' })
    await wait(0)
    expect(net.requests).toHaveLength(1)
    const b = net.requests[0].body
    expect(b).toMatchObject({ v: 2, site: 'demo', sn: 1, land: { url: LANDING, ref: GOOGLE }, sent: T0 })
    expect(b.events).toEqual([
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: 'pageview', ts: T0, url: LANDING, ref: GOOGLE, title: 'Spring offer' },
    ])
  })

  test('SPA routes: pushState, replaceState and popstate; no duplicates; landing kept', async () => {
    const net = collector()
    await boot({ url: LANDING, referrer: GOOGLE })
    history.replaceState({}, '', LANDING) // routers often do this at start-up
    await wait(0)
    history.pushState({}, '', '/pricing')
    history.replaceState({ x: 1 }, '', '/pricing') // same URL: not a view
    history.replaceState({}, '', '/pricing?tab=annual') // new URL: a view
    silently('/offer?utm_source=news&utm_medium=email&gclid=G1')
    window.dispatchEvent(new PopStateEvent('popstate'))
    await wait(1000)
    const views = net.events('pageview')
    expect(views.map((e) => [e.url, e.ref])).toEqual([
      [LANDING, GOOGLE],
      ['https://www.example.com/pricing', LANDING],
      ['https://www.example.com/pricing?tab=annual', 'https://www.example.com/pricing'],
      [LANDING, 'https://www.example.com/pricing?tab=annual'],
    ])
    // Same session throughout, and every beacon carries the original landing.
    expect(new Set(net.requests.map((r) => r.body.sid)).size).toBe(1)
    for (const r of net.requests) expect(r.body.land).toEqual({ url: LANDING, ref: GOOGLE })
  })

  test('pushState still returns and throws like the original', async () => {
    collector()
    await boot()
    expect(history.pushState(null, '', '/a')).toBeUndefined()
    expect(() => history.pushState(null, '', 'https://evil.example.net/')).toThrow()
  })

  test('hash changes are not views unless data-hash', async () => {
    let net = collector()
    await boot({ url: 'https://www.example.com/app' })
    history.pushState(null, '', '#section')
    silently('#/other')
    window.dispatchEvent(new HashChangeEvent('hashchange'))
    await wait(1000)
    expect(net.events('pageview').map((e) => e.url)).toEqual(['https://www.example.com/app'])

    net = collector()
    await boot({ url: 'https://www.example.com/app#/home', attrs: { hash: '' } })
    silently('#/settings')
    window.dispatchEvent(new HashChangeEvent('hashchange'))
    await wait(1000)
    expect(net.events('pageview').map((e) => [e.url, e.ref])).toEqual([
      ['https://www.example.com/app#/home', ''],
      ['https://www.example.com/app#/settings', 'https://www.example.com/app#/home'],
    ])
  })

  // The previous route is the new session's referrer; being of the page's own origin, the collector
  // drops it (no external referrer), as it does for old tags that sent it empty.
  test('a route change after 30 idle minutes starts a session whose referrer is the previous route', async () => {
    const net = collector()
    await boot({ url: LANDING, referrer: GOOGLE })
    await wait(31 * 60e3)
    history.pushState(null, '', '/later')
    await wait(0)
    const last = net.requests.at(-1).body
    expect(last.sn).toBe(2)
    expect(last.land).toEqual({ url: 'https://www.example.com/later', ref: LANDING })
    expect(last.events[0].ref).toBe(LANDING)
  })

  test('URLs are cut to 2,000 characters', async () => {
    const net = collector()
    const long = 'https://www.example.com/?q=' + 'x'.repeat(3000)
    await boot({ url: long, referrer: GOOGLE + '?' + 'r'.repeat(3000) })
    await wait(0)
    const b = net.requests[0].body
    expect(b.events[0].url).toHaveLength(2000)
    expect(b.events[0].ref).toHaveLength(2000)
    expect(b.land.url).toHaveLength(2000)
    expect(b.land.ref).toHaveLength(2000)
  })

  test('data-404 and <meta name="tt-404"> add a page_not_found event', async () => {
    let net = collector()
    await boot({ attrs: { 404: '' } })
    await wait(1000)
    expect(net.events('event').map((e) => e.name)).toEqual(['page_not_found'])

    net = collector()
    const meta = document.createElement('meta')
    meta.name = 'tt-404'
    document.head.append(meta)
    await boot()
    meta.remove()
    await wait(1000)
    expect(net.events('event').map((e) => e.name)).toEqual(['page_not_found'])
  })
})
