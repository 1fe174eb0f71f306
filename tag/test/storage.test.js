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
