import { describe, expect, test } from 'vitest'
import { fake, load } from './helpers.js'

const jarFor = (url) => jsdom.cookieJar.getCookiesSync(url).map((c) => c.key)

describe('storage', () => {
  test('cookie on the highest domain that accepts one, mirrored in localStorage', async () => {
    const { store, load: read } = await load('storage.js', { url: 'https://www.shop.example.co.uk/p' })
    store('_tt', 'abc')
    const [c] = jsdom.cookieJar.getCookiesSync('https://www.shop.example.co.uk/')
    expect(c.key).toBe('_tt')
    expect(c.domain).toBe('example.co.uk') // co.uk is a public suffix: refused
    expect(c.secure).toBe(true)
    expect(c.path).toBe('/')
    expect(c.maxAge).toBe(395 * 86400) // 13 months
    expect(jarFor('https://other.example.co.uk/')).toEqual(['_tt']) // shared by subdomains
    expect(localStorage.getItem('_tt')).toBe('"abc"')
    expect(read('_tt')).toBe('abc')
    store('_tt', '')
    expect(jarFor('https://www.shop.example.co.uk/')).toEqual([]) // no probe cookie left either
    expect(localStorage.getItem('_tt')).toBeNull()
    expect(read('_tt')).toBeUndefined()
  })

  test('the root domain is found shortest first: one probe on most sites, not one per label', async () => {
    const { store } = await load('storage.js', { url: 'https://www.shop.example.com/' })
    const jar = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')
    const writes = []
    let reads = 0
    fake(document, 'cookie', undefined, {
      get: () => (reads++, jar.get.call(document)),
      set: (v) => (writes.push(v.split(';').filter((x) => /^(_tt|domain)/.test(x)).join(';')), jar.set.call(document, v)),
    })
    store('_tt', 'v')
    // Every write to document.cookie makes the next read a round trip to the browser's cookie store: a
    // probe on www.shop.example.com, then shop.example.com, then example.com took six writes and three reads.
    expect(writes).toEqual(['_tt_t=1;domain=example.com', '_tt_t=;domain=example.com', '_tt=v;domain=example.com'])
    expect(reads).toBe(1)
    expect(jarFor('https://other.example.com/')).toEqual(['_tt'])
  })

  test('behind a public suffix the probe goes on until a domain takes it (github.io is refused)', async () => {
    const { store } = await load('storage.js', { url: 'https://www.site.github.io/' })
    store('_tt', 'v')
    const [c] = jsdom.cookieJar.getCookiesSync('https://www.site.github.io/')
    expect(c.domain).toBe('site.github.io')
    expect(jarFor('https://other.github.io/')).toEqual([])
  })

  test('a single-label host gets a host-only cookie', async () => {
    const { store } = await load('storage.js', { url: 'https://intranet/' })
    store('_tt', 'v')
    const [c] = jsdom.cookieJar.getCookiesSync('https://intranet/')
    expect(c.hostOnly).toBe(true)
  })

  test('localStorage is the fallback when cookies are refused (e.g. plain http)', async () => {
    const { store, load: read } = await load('storage.js', { url: 'http://www.example.com/' })
    store('_tt', 'v1')
    expect(document.cookie).toBe('')
    expect(read('_tt')).toBe('v1')
  })

  test('works without localStorage (blocked storage throws)', async () => {
    const { store, load: read, ls } = await load('storage.js')
    fake(globalThis, 'localStorage', undefined, {
      get() {
        throw new Error('SecurityError')
      },
    })
    store('_tt', 'v2')
    expect(read('_tt')).toBe('v2')
    expect(ls('_tt_s')).toBeUndefined()
  })

  test('ls reads JSON, tolerates corrupt values', async () => {
    const { ls } = await load('storage.js')
    ls('k', { a: 1 })
    expect(ls('k')).toEqual({ a: 1 })
    localStorage.setItem('k', '{not json')
    expect(ls('k')).toBeUndefined()
    ls('k', '')
    expect(localStorage.getItem('k')).toBeNull()
  })
})
