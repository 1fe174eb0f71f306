import { describe, expect, test, vi } from 'vitest'
import { boot, collector, fake, wait } from './helpers.js'

// Nothing sent, nothing stored, and tt() still harmless.
async function expectSilent(net) {
  expect(() => tt('track', 'x')).not.toThrow()
  await wait(5000)
  expect(net.requests).toEqual([])
  expect(document.cookie).toBe('')
  if (location.protocol != 'file:') expect(localStorage.length).toBe(0) // opaque origin: none at all
}

describe('respect', () => {
  test.each(['http://localhost:3000/', 'http://127.0.0.1/', 'http://[::1]:8080/', 'file:///home/me/site/index.html'])(
    'does nothing on %s without data-allow-localhost',
    async (url) => {
      const net = collector()
      await boot({ url, queue: [['track', 'queued']] })
      await expectSilent(net)
    },
  )

  test('data-allow-localhost tracks on localhost', async () => {
    const net = collector()
    await boot({ url: 'http://localhost:3000/', attrs: { 'allow-localhost': '' } })
    await wait(0)
    expect(net.events('pageview')).toHaveLength(1)
    expect(net.requests[0].body.vid).toBe(localStorage.getItem('_tt') && JSON.parse(localStorage.getItem('_tt')))
  })

  test('does nothing under automation (navigator.webdriver) without data-allow-automation', async () => {
    fake(navigator, 'webdriver', true)
    let net = collector()
    await boot({ attrs: { 'allow-automation': null } })
    await expectSilent(net)
    net = collector()
    await boot()
    await wait(0)
    expect(net.events('pageview')).toHaveLength(1)
  })

  test('data-dnt honours Do Not Track and Global Privacy Control', async () => {
    fake(navigator, 'doNotTrack', '1')
    let net = collector()
    await boot({ attrs: { dnt: '' } })
    await expectSilent(net)
    net = collector()
    await boot() // not asked: tracked
    await wait(0)
    expect(net.requests).toHaveLength(1)
    localStorage.clear()
    jsdom.cookieJar.removeAllCookiesSync()

    fake(navigator, 'doNotTrack', null)
    fake(navigator, 'globalPrivacyControl', true)
    net = collector()
    await boot({ attrs: { dnt: '' } })
    await expectSilent(net)
  })

  test('data-consent waits for tt("consent","granted"): nothing stored or sent before', async () => {
    const net = collector()
    await boot({ attrs: { consent: '' } })
    tt('track', 'before') // dropped, not held
    history.pushState(null, '', '/second')
    await wait(5000)
    expect(net.requests).toEqual([])
    expect(document.cookie).toBe('')
    expect(localStorage.length).toBe(0)
    tt('consent', 'granted')
    tt('consent', 'granted') // repeated by the CMP: no second view
    tt('track', 'after')
    await wait(1000)
    expect(net.events().map((e) => e.name || e.url)).toEqual(['https://www.example.com/second', 'after'])
    expect(document.cookie).toMatch(/_tt=/)
  })

  test('consent granted in the snippet queue before the tag loaded', async () => {
    const net = collector()
    await boot({ attrs: { consent: '' }, queue: [['consent', 'granted']] })
    await wait(1000)
    expect(net.events('pageview')).toHaveLength(1)
  })

  test('consent denied (or withdrawn) forgets the visitor and drops what waits', async () => {
    const net = collector()
    await boot()
    await wait(0)
    tt('track', 'pending')
    tt('consent', 'denied')
    tt('track', 'ignored')
    await wait(5000)
    expect(net.events().map((e) => e.name || e.type)).toEqual(['pageview'])
    expect(document.cookie).toBe('')
    expect(localStorage.length).toBe(0)
  })

  test('tt("optout") persists across page loads; tt("optin") undoes it', async () => {
    let net = collector()
    await boot()
    await wait(0)
    const vid = net.requests[0].body.vid
    tt('track', 'pending')
    tt('optout')
    await wait(5000)
    expect(net.requests).toHaveLength(1)
    expect(document.cookie).toBe('_tt_o=1')
    expect(localStorage.getItem('_tt_q')).toBeNull()

    net = collector()
    await boot({ url: 'https://www.example.com/next' })
    tt('track', 'x')
    await wait(5000)
    expect(net.requests).toEqual([])

    tt('optin')
    expect(document.cookie).toBe('')
    net = collector()
    await boot()
    await wait(0)
    expect(net.requests).toHaveLength(1)
    expect(net.requests[0].body.vid).not.toBe(vid) // opting out forgot the old id
  })

  test('the opt-out cookie is shared by subdomains', async () => {
    collector()
    await boot({ url: 'https://www.example.com/' })
    tt('optout')
    const c = jsdom.cookieJar.getCookiesSync('https://shop.example.com/')
    expect(c.map((x) => x.key)).toEqual(['_tt_o'])
  })

  test('only its own cookies, and no request to anything but the collector', async () => {
    const net = collector()
    await boot({ attrs: { outbound: '', downloads: '', forms: '', engagement: '' } })
    await wait(0)
    tt('track', 'x')
    await wait(1000)
    expect(document.cookie.split('; ').map((c) => c.split('=')[0])).toEqual(['_tt'])
    expect(new Set(net.requests.map((r) => r.url))).toEqual(new Set(['https://collect.example.com/collect']))
  })

  test.each([
    ['http://localhost:3000/', {}, 'localhost'],
    ['https://www.example.com/', { 'allow-automation': null }, 'automation'],
  ])('off on %s: one console.info line says why and how to turn it on', async (url, attrs, why) => {
    if (why == 'automation') fake(navigator, 'webdriver', true)
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    collector()
    await boot({ url, attrs })
    tt('track', 'x')
    tt('pageview')
    await wait(1000)
    expect(info).toHaveBeenCalledTimes(1)
    expect(info.mock.calls[0][0]).toBe(`tt.js off (${why}): add data-allow-${why}`)
    info.mockRestore()
  })

  test('nothing in the console when tracking, or when off for the visitor (DNT)', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    collector()
    await boot()
    fake(navigator, 'doNotTrack', '1')
    await boot({ attrs: { dnt: '' } })
    expect(info).not.toHaveBeenCalled()
    info.mockRestore()
  })

  test('Global Privacy Control: counted without identifiers: nothing stored, a new visitor per page, ctx.storage "gpc"', async () => {
    fake(navigator, 'globalPrivacyControl', true)
    document.cookie = '_tt=old-visitor;path=/' // from a visit before GPC was on: not read
    const net = collector()
    await boot()
    await wait(0)
    tt('track', 'x')
    history.pushState(null, '', '/second')
    await wait(1000)
    const bodies = net.requests.map((r) => r.body)
    expect(bodies.map((b) => b.ctx.storage)).toEqual(['gpc', 'gpc'])
    expect(new Set(bodies.map((b) => b.vid)).size).toBe(1) // one visitor and session for the page
    expect(new Set(bodies.map((b) => b.sid)).size).toBe(1)
    expect(bodies[0].vid).not.toBe('old-visitor')
    expect(document.cookie).toBe('_tt=old-visitor') // nothing written
    expect(localStorage.length).toBe(0)
    await boot({ url: 'https://www.example.com/next' })
    await wait(0)
    expect(net.requests.at(-1).body.vid).not.toBe(bodies[0].vid) // next page: another visitor
  })

  test('data-gpc="ignore" (a site with a legal basis) tracks as usual under GPC; data-dnt stops it', async () => {
    fake(navigator, 'globalPrivacyControl', true)
    let net = collector()
    await boot({ attrs: { gpc: 'ignore' } })
    await wait(0)
    expect(net.requests[0].body.ctx.storage).toBeUndefined()
    expect(document.cookie).toMatch(/_tt=/)
    net = collector()
    await boot({ attrs: { dnt: '' } })
    await wait(1000)
    expect(net.requests).toEqual([])
  })

  test('storage blocked (localStorage throws, no cookies): ids kept in page memory, ctx.storage "none"', async () => {
    fake(globalThis, 'localStorage', undefined, {
      get() {
        throw new DOMException('Access is denied for this document.', 'SecurityError')
      },
    })
    const net = collector()
    await boot()
    await wait(0)
    tt('track', 'a')
    await wait(1000)
    tt('track', 'b')
    await wait(1000)
    const bodies = net.requests.map((r) => r.body)
    expect(bodies).toHaveLength(3)
    expect(bodies.map((b) => b.ctx.storage)).toEqual(['none', 'none', 'none'])
    expect(new Set(bodies.map((b) => b.vid)).size).toBe(1) // not a new visitor per event
    expect(new Set(bodies.map((b) => b.sid)).size).toBe(1)
    expect(document.cookie).toBe('')
  })
})
