import { describe, expect, test } from 'vitest'
import { T0, boot, collector, hide, show, wait } from './helpers.js'

const kept = () => JSON.parse(localStorage.getItem('_tt_q') || '[]')
const keptEvents = () => kept().flatMap((b) => b.events)

describe('delivery', () => {
  test('POST text/plain JSON with keepalive to <script origin>/collect; events batched for 1 s', async () => {
    const net = collector()
    await boot()
    await wait(0)
    tt('track', 'a')
    tt('track', 'b')
    await wait(500)
    tt('track', 'c')
    expect(net.requests).toHaveLength(1) // only the page view so far
    await wait(500)
    expect(net.requests).toHaveLength(2)
    const r = net.requests[1]
    expect(r.url).toBe('https://collect.example.com/collect')
    expect(r.init).toMatchObject({ method: 'POST', keepalive: true })
    expect(r.init.headers).toBeUndefined() // a string body: text/plain, a simple CORS request
    expect(typeof r.init.body).toBe('string')
    expect(new Request('https://x/', { method: 'POST', body: r.init.body }).headers.get('content-type')).toMatch(/^text\/plain/)
    expect(r.body.events.map((e) => e.name)).toEqual(['a', 'b', 'c'])
    expect(r.body.sent).toBe(T0 + 1000)
    expect(new Set(net.events().map((e) => e.id)).size).toBe(4)
  })

  test('data-api overrides the endpoint (absolute, or a path on the script origin)', async () => {
    let net = collector()
    await boot({ attrs: { api: 'https://t.example.com/x/y' } })
    await wait(0)
    expect(net.requests[0].url).toBe('https://t.example.com/x/y')
    net = collector()
    await boot({ attrs: { api: '/p/e' } })
    await wait(0)
    expect(net.requests[0].url).toBe('https://collect.example.com/p/e')
  })

  test('page hide sends what is waiting with sendBeacon', async () => {
    const net = collector()
    await boot()
    await wait(0)
    tt('track', 'leaving')
    hide()
    window.dispatchEvent(new Event('pagehide'))
    expect(net.sendBeacon).toHaveBeenCalledTimes(1)
    const [url, data] = net.sendBeacon.mock.calls[0]
    expect(url).toBe('https://collect.example.com/collect')
    expect(typeof data).toBe('string') // sent as text/plain
    expect(JSON.parse(data).events.map((e) => e.name)).toEqual(['leaving'])
    await wait(2000)
    expect(net.fetch).toHaveBeenCalledTimes(1) // nothing sent twice
  })

  test('a refused sendBeacon keeps the batch for the next page', async () => {
    const net = collector()
    await boot()
    await wait(0)
    net.sendBeacon.mockReturnValue(false)
    tt('track', 'x')
    hide()
    expect(keptEvents().map((e) => e.name)).toEqual(['x'])
  })

  test('bodies stay under 64 KB: big batches are split', async () => {
    const net = collector()
    await boot()
    await wait(0)
    const props = Object.fromEntries(Array.from({ length: 30 }, (_, i) => ['key' + i, 'é'.repeat(256)]))
    for (let i = 0; i < 40; i++) tt('track', 'big' + i, props)
    await wait(1000)
    const bodies = net.requests.slice(1)
    expect(bodies.length).toBeGreaterThan(1)
    for (const r of bodies) expect(new Blob([r.init.body]).size).toBeLessThan(64 * 1024)
    expect(bodies.flatMap((r) => r.body.events.map((e) => e.name))).toEqual(Array.from({ length: 40 }, (_, i) => 'big' + i))
  })

  test('an event too large to ever be sent, or that JSON cannot hold, is dropped; the others still go', async () => {
    const net = collector()
    await boot()
    await wait(0)
    const cyclic = { a: 1 }
    cyclic.self = cyclic
    tt('track', 'before')
    tt('track', 'huge', { note: 'x'.repeat(30000) })
    tt('track', 'cyclic', cyclic)
    tt('track', 'after', { note: 'x'.repeat(10000) })
    await wait(1000)
    tt('track', 'later')
    await wait(1000)
    expect(net.events('event').map((e) => e.name)).toEqual(['before', 'after', 'later'])
    for (const r of net.requests) expect(new Blob([r.init.body]).size).toBeLessThan(64 * 1024)
    expect(keptEvents()).toEqual([])
  })

  test('network errors: kept in localStorage, retried with exponential backoff', async () => {
    let down = true
    const net = collector(() => (down ? new TypeError('Failed to fetch') : { status: 202 }))
    await boot()
    await wait(0)
    expect(net.requests).toHaveLength(1)
    expect(keptEvents().map((e) => e.type)).toEqual(['pageview'])
    await wait(999)
    expect(net.requests).toHaveLength(1)
    await wait(1) // 1 s
    expect(net.requests).toHaveLength(2)
    await wait(1999)
    expect(net.requests).toHaveLength(2)
    await wait(1) // then 2 s
    expect(net.requests).toHaveLength(3)
    down = false
    await wait(4000) // then 4 s
    expect(net.requests).toHaveLength(4)
    expect(kept()).toEqual([])
    // the same event (same id) each time, with a fresh "sent"
    const ids = net.requests.map((r) => r.body.events[0].id)
    expect(new Set(ids).size).toBe(1)
    expect(net.requests[3].body.sent).toBe(T0 + 7000)
  })

  test('429/5xx honour Retry-After; events made meanwhile wait and go with the retry', async () => {
    const net = collector((body, n) => (n == 1 ? { status: 503, headers: { 'Retry-After': '30' } } : { status: 202 }))
    await boot()
    await wait(0)
    tt('track', 'during')
    await wait(29000)
    expect(net.requests).toHaveLength(1)
    expect(keptEvents().map((e) => e.name || e.type)).toEqual(['pageview', 'during'])
    await wait(1000)
    expect(net.events().map((e) => e.name || e.type)).toEqual(['pageview', 'pageview', 'during'])
    expect(kept()).toEqual([])
  })

  test('429 without Retry-After backs off too', async () => {
    const net = collector((body, n) => (n == 1 ? { status: 429 } : { status: 202 }))
    await boot()
    await wait(1000)
    expect(net.requests).toHaveLength(2)
  })

  test.each([400, 403, 404, 413, 422])('%i is never retried', async (status) => {
    const net = collector(() => ({ status }))
    await boot()
    await wait(0)
    tt('track', 'x')
    await wait(60000)
    expect(net.requests).toHaveLength(2)
    expect(kept()).toEqual([])
  })

  test('kept batches are sent on the next page load', async () => {
    let net = collector(() => new TypeError('offline'))
    await boot()
    await wait(0)
    tt('track', 'offline-event')
    await wait(1000)
    expect(keptEvents()).toHaveLength(2)
    const ids = keptEvents().map((e) => e.id)

    net = collector()
    await boot({ url: 'https://www.example.com/next' })
    await wait(0)
    const got = net.events()
    expect(got.map((e) => e.id)).toEqual(expect.arrayContaining(ids))
    expect(got).toHaveLength(3)
    expect(kept()).toEqual([])
  })

  test('at most 200 events are kept, oldest batches dropped', async () => {
    collector(() => new TypeError('offline'))
    await boot()
    await wait(0)
    for (let i = 0; i < 30; i++) {
      for (let j = 0; j < 10; j++) tt('track', `e${i}-${j}`)
      await wait(1000)
    }
    const names = keptEvents().map((e) => e.name)
    expect(names.length).toBeLessThanOrEqual(200)
    expect(names.at(-1)).toBe('e29-9')
    expect(names).not.toContain('e0-0')
  })

  test('a batch never mixes two sessions', async () => {
    const net = collector()
    await boot()
    await wait(0)
    tt('track', 'old')
    history.pushState(null, '', '/?utm_source=partner') // new campaign inside the debounce
    tt('track', 'new')
    await wait(1000)
    const bySession = net.requests.map((r) => [r.body.sn, r.body.events.map((e) => e.name || e.type)])
    expect(bySession).toEqual([
      [1, ['pageview']],
      [1, ['old']],
      [2, ['pageview', 'new']],
    ])
  })

  test('one fetch at a time: what comes meanwhile waits and goes, in order, once it is answered', async () => {
    let open = 0
    let most = 0
    let release
    const net = collector(async (body, n) => {
      most = Math.max(most, ++open)
      if (n == 1) await new Promise((r) => (release = r)) // the page view hangs
      open--
      return { status: 202 }
    })
    await boot()
    await wait(0)
    tt('track', 'a')
    await wait(1000)
    tt('track', 'b')
    await wait(1000)
    expect(net.requests).toHaveLength(1) // a and b wait for the page view's answer
    release()
    await wait(0)
    expect(most).toBe(1)
    expect(net.events().map((e) => e.name || e.type)).toEqual(['pageview', 'a', 'b'])
    expect(kept()).toEqual([])
  })

  test('after an outage: back online (or the page shown again) retries at once, not at the end of the backoff', async () => {
    let down = true
    const net = collector(() => (down ? new TypeError('Failed to fetch') : { status: 202 }))
    await boot()
    await wait(0)
    for (let i = 0; i < 6; i++) await wait(2 ** i * 1000) // backoff now 64 s
    const n = net.requests.length
    down = false
    window.dispatchEvent(new Event('online'))
    await wait(0)
    expect(net.requests).toHaveLength(n + 1)
    expect(kept()).toEqual([])
    window.dispatchEvent(new Event('online')) // nothing waits: nothing sent
    await wait(0)
    expect(net.requests).toHaveLength(n + 1)

    down = true
    tt('track', 'x')
    await wait(1000) // fails: retry in 1 s... then 2 s
    await wait(1000)
    const m = net.requests.length
    down = false
    hide()
    show() // the visitor comes back to the tab
    await wait(0)
    expect(net.requests).toHaveLength(m + 1)
    expect(net.events().filter((e) => e.name == 'x').length).toBeGreaterThan(1)
    expect(kept()).toEqual([])
  })
})
