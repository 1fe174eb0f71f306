import { describe, expect, test } from 'vitest'
import { T0, boot, collector, wait } from './helpers.js'

describe('tt() API', () => {
  test('calls queued by the snippet are replayed in order, after the first page view', async () => {
    const net = collector()
    await boot({
      queue: [
        ['track', 'early', { a: 1 }],
        ['identify', 'u-42', { plan: 'pro' }],
      ],
    })
    expect(typeof window.tt).toBe('function')
    expect(window.tt.q).toBeUndefined()
    await wait(0)
    expect(net.requests).toHaveLength(1) // one request, sent at once
    expect(net.events().map((e) => e.type)).toEqual(['pageview', 'event', 'identify'])
  })

  test('works without the snippet stub', async () => {
    const net = collector()
    await boot({ stub: false })
    tt('track', 'x')
    await wait(1000)
    expect(net.events('event')).toHaveLength(1)
  })

  test('event shapes', async () => {
    const net = collector()
    await boot({ url: 'https://www.example.com/checkout' })
    tt('track', 'signup', { plan: 'pro', seats: 3, trial: true, nested: { x: 1 } })
    tt('identify', 'user-1', { email_domain: 'example.org', vip: false })
    tt('lead', { form: 'demo' })
    tt('purchase', { value: 49.9, currency: 'EUR', order_id: 'A-1', coupon: 'SPRING' })
    tt('pageview') // manual: a view even though the URL did not change
    await wait(1000)
    const base = { id: expect.any(String), ts: T0, url: 'https://www.example.com/checkout' }
    const [, ...rest] = net.events()
    expect(rest).toEqual([
      // Beacon v2: props go as the page gave them; the collector cleans them (nested values and all).
      { ...base, type: 'event', name: 'signup', props: { plan: 'pro', seats: 3, trial: true, nested: { x: 1 } } },
      { ...base, type: 'identify', props: { user_id: 'user-1', traits: { email_domain: 'example.org', vip: false } } },
      { ...base, type: 'event', name: 'lead', props: { form: 'demo' } },
      { ...base, type: 'event', name: 'purchase', props: { value: 49.9, currency: 'EUR', order_id: 'A-1', coupon: 'SPRING' } },
      { ...base, type: 'pageview', ref: '', title: 'Home' },
    ])
  })

  test('tt("flush") sends at once', async () => {
    const net = collector()
    await boot()
    await wait(0)
    tt('track', 'now')
    tt('flush')
    await wait(0)
    expect(net.requests).toHaveLength(2)
  })

  test('never throws into the page, whatever it is given', async () => {
    const net = collector()
    await boot()
    const cyclic = { a: 1 }
    cyclic.self = cyclic
    const calls = [
      [],
      [null],
      [42],
      ['unknown-command'],
      ['track'],
      ['track', ''],
      ['track', 'x', 'not-an-object'],
      ['track', 'cyclic', cyclic],
      ['track', { name: 1 }],
      ['identify'],
      ['identify', 'u', 5],
      ['purchase'],
      ['lead', null],
      [Symbol('s')],
    ]
    for (const args of calls) expect(() => tt(...args)).not.toThrow()
    await wait(1000)
    expect(net.requests.length).toBeGreaterThan(0)
    for (const r of net.requests) expect(() => JSON.parse(r.init.body)).not.toThrow()
  })

  test('errors inside the tag stay inside (storage that throws on write)', async () => {
    const net = collector()
    await boot()
    const setItem = Storage.prototype.setItem
    Storage.prototype.setItem = () => {
      throw new DOMException('quota', 'QuotaExceededError')
    }
    try {
      expect(() => tt('track', 'x')).not.toThrow()
      expect(() => history.pushState(null, '', '/y')).not.toThrow()
    } finally {
      Storage.prototype.setItem = setItem
    }
    await wait(1000)
    expect(net.events().length).toBeGreaterThan(1)
  })
})
