import { describe, expect, test, vi } from 'vitest'
import { T0, load } from './helpers.js'

const MIN = 60e3

describe('identity', () => {
  test('visitor id persists; a session lasts until 30 minutes without events', async () => {
    const { session } = await load('identity.js')
    const url = 'https://www.example.com/'
    const a = session(T0, url, 'https://www.google.com/')
    expect(a).toMatchObject({ v: 2, site: 'demo', sn: 1, land: { url, ref: 'https://www.google.com/' } })
    expect(a.vid).toMatch(/^[0-9a-f-]{36}$/)
    expect(a.ctx).toEqual({ sw: screen.width, sh: screen.height, lang: navigator.language })
    const b = session(T0 + 29 * MIN, url + 'b', '')
    expect(b.sid).toBe(a.sid)
    expect(b.land).toEqual(a.land) // the landing page stays for the whole session
    const c = session(T0 + 29 * MIN + 30 * MIN + 1, url + 'c', '')
    expect(c.vid).toBe(a.vid)
    expect(c.sid).not.toBe(a.sid)
    expect(c.sn).toBe(2)
    expect(c.land).toEqual({ url: url + 'c', ref: '' })
  })

  test('a new campaign renews the session; the same campaign again does not', async () => {
    const { session } = await load('identity.js')
    const a = session(T0, 'https://www.example.com/', '')
    const b = session(T0 + MIN, 'https://www.example.com/?utm_source=news&utm_campaign=spring', 'https://mail.example.org/')
    expect(b.sid).not.toBe(a.sid)
    expect(b.sn).toBe(2)
    expect(b.land).toEqual({ url: 'https://www.example.com/?utm_source=news&utm_campaign=spring', ref: 'https://mail.example.org/' })
    const c = session(T0 + 2 * MIN, 'https://www.example.com/?utm_source=news&utm_campaign=spring', '')
    expect(c.sid).toBe(b.sid) // reload of the landing page
    const d = session(T0 + 3 * MIN, 'https://www.example.com/p', '')
    expect(d.sid).toBe(b.sid) // no campaign: same session
    const e = session(T0 + 4 * MIN, 'https://www.example.com/?gclid=XYZ', 'https://www.google.com/')
    expect(e.sid).not.toBe(b.sid)
    expect(e.sn).toBe(3)
  })

  // Whether the session's referrer is external is the collector's call: it drops a referrer of the
  // landing page's own origin (TouchpointFactory.ExternalReferrer, tested in the collector's tests).
  test('the session referrer is sent as it is, internal ones included', async () => {
    const { session } = await load('identity.js', { url: 'https://www.example.com/a' })
    expect(session(T0, 'https://www.example.com/a', 'https://www.google.com/').land.ref).toBe('https://www.google.com/')
    localStorage.clear()
    expect(session(T0, 'https://www.example.com/a', 'https://blog.example.com/post').land.ref).toBe('https://blog.example.com/post')
    localStorage.clear()
    expect(session(T0, 'https://www.example.com/a', 'https://www.example.com/home').land.ref).toBe('https://www.example.com/home')
    localStorage.clear()
    expect(session(T0, 'https://www.example.com/a', '').land.ref).toBe('')
  })

  test('state survives a page load (cookie + localStorage)', async () => {
    let m = await load('identity.js')
    const a = m.session(T0, 'https://www.example.com/', '')
    m = await load('identity.js', { url: 'https://www.example.com/next' })
    const b = m.session(T0 + MIN, 'https://www.example.com/next', 'https://www.example.com/')
    expect(b).toMatchObject({ vid: a.vid, sid: a.sid, sn: 1, land: a.land })
    // visitor id only in the cookie (localStorage cleared): still the same visitor
    localStorage.clear()
    m = await load('identity.js')
    expect(m.session(T0 + 2 * MIN, 'https://www.example.com/', '').vid).toBe(a.vid)
  })

  test('forget removes the visitor and the session', async () => {
    const { session, forget } = await load('identity.js')
    const a = session(T0, 'https://www.example.com/', '')
    forget()
    expect(document.cookie).toBe('')
    expect(localStorage.length).toBe(0)
    expect(session(T0, 'https://www.example.com/', '').vid).not.toBe(a.vid)
  })

  test('uses the clock it is given, not the wall clock', async () => {
    vi.setSystemTime(T0 + 999 * MIN)
    const { session } = await load('identity.js')
    const a = session(T0, 'https://www.example.com/', '')
    expect(session(T0 + MIN, 'https://www.example.com/', '').sid).toBe(a.sid)
  })
})
