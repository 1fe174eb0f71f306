import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { boot, fake, load, wait } from './helpers.js'

// The module reads the tag's settings when loaded: load it as the page would.
const replacer = async (a) => (await load('features/phone.js')).replacer(a)

// A page load ends the observers of the page before: here, each test does.
const observers = []
beforeEach(() => {
  const Real = MutationObserver
  vi.stubGlobal(
    'MutationObserver',
    class extends Real {
      constructor(f) {
        super(f)
        observers.push(this)
      }
    },
  )
})
afterEach(() => {
  for (const o of observers.splice(0)) o.disconnect()
  sessionStorage.clear()
  document.body.innerHTML = ''
})

const FR = { number: '+33123456701', display: '01 23 45 67 01', pool: 'main', replaces: '+33123456789', cc: '33', trunk: '0' }

describe('number replacement', () => {
  test.each([
    ['+33 1 23 45 67 89', '+33 1 23 45 67 01'],
    ['+33123456789', '+33123456701'],
    ['0033 1 23 45 67 89', '0033 1 23 45 67 01'],
    ['+33 (0)1 23 45 67 89', '+33 (0)1 23 45 67 01'],
    ['01 23 45 67 89', '01 23 45 67 01'],
    ['01.23.45.67.89', '01.23.45.67.01'],
    ['01-23-45-67-89', '01-23-45-67-01'],
    ['0123456789', '0123456701'],
    ['(01) 23 45 67 89', '(01) 23 45 67 01'],
    ['01\u00a023\u00a045\u00a067\u00a089', '01\u00a023\u00a045\u00a067\u00a001'],
    ['tel:+33123456789', 'tel:+33123456701'],
    ['tel:01-23-45-67-89', 'tel:01-23-45-67-01'],
    ['Call 01 23 45 67 89 (Mon-Fri) or +33 1 23 45 67 89.', 'Call 01 23 45 67 01 (Mon-Fri) or +33 1 23 45 67 01.'],
  ])('%s', async (text, expected) => expect((await replacer(FR))(text)).toBe(expected))

  test.each(['01 23 45 67 88', '101 23 45 67 89', '01 23 45 67 890', '+44 1 23 45 67 89', 'Order 0123456789012', ''])(
    'left alone: %s',
    async (text) => expect((await replacer(FR))(text)).toBeUndefined(),
  )

  test('North American numbers, with or without the 1', async () => {
    const us = await replacer({ number: '+15550100123', display: '(555) 010-0123', replaces: '+15550100199', cc: '1', trunk: '' })
    expect(us('(555) 010-0199')).toBe('(555) 010-0123')
    expect(us('1-555-010-0199')).toBe('1-555-010-0123')
    expect(us('+1 555.010.0199')).toBe('+1 555.010.0123')
  })

  test('a tracking number of another length is written plainly', async () => {
    const longer = await replacer({ ...FR, number: '+331234567012', display: '01 23 45 67 01 2' })
    expect(longer('01 23 45 67 89')).toBe('01 23 45 67 01 2')
    expect(longer('+33 1 23 45 67 89')).toBe('+331234567012')
  })
})

// The collector: /collect takes beacons, /numbers answers `numbers(n)` for the n-th ask
// (an object: 200 with it; a number: that status; 'fail': a network error; 'hang': no answer).
function server(numbers) {
  const asks = []
  const fetch = vi.fn((url, init = {}) => {
    if (!String(url).includes('/numbers')) return Promise.resolve({ ok: true, status: 202, headers: new Headers() })
    asks.push(new URL(url))
    const a = numbers(asks.length)
    if (a == 'fail') return Promise.reject(new TypeError('Failed to fetch'))
    return new Promise((resolve, reject) => {
      init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      if (a != 'hang')
        resolve(typeof a == 'number' ? { ok: false, status: a, json: async () => ({}) } : { ok: true, status: 200, json: async () => a })
    })
  })
  vi.stubGlobal('fetch', fetch)
  fake(navigator, 'sendBeacon', () => true)
  return asks
}

const page = () => {
  document.body.innerHTML = '<p id="t">Call us: 01 23 45 67 89</p><a id="l" href="tel:+33123456789">+33 1 23 45 67 89</a><textarea>01 23 45 67 89</textarea>'
}
const text = () => [document.getElementById('t').textContent, document.getElementById('l').getAttribute('href'), document.getElementById('l').textContent]

describe('data-phone', () => {
  test('asks once per session, replaces text and tel: links, and content added later', async () => {
    const asks = server(() => FR)
    page()
    await boot({ attrs: { phone: '+33 1 23 45 67 89' }, url: 'https://www.example.com/?utm_source=ads' })
    await wait(0)
    expect(text()).toEqual(['Call us: 01 23 45 67 01', 'tel:+33123456701', '+33 1 23 45 67 01'])
    expect(document.querySelector('textarea').value).toBe('01 23 45 67 89')
    const q = asks[0]
    expect(q.origin + q.pathname).toBe('https://collect.example.com/numbers')
    expect(Object.fromEntries(q.searchParams)).toMatchObject({ site: 'demo', phone: '+33 1 23 45 67 89', url: 'https://www.example.com/?utm_source=ads' })
    expect(q.searchParams.get('vid')).toMatch(/^[0-9a-f-]{36}$/)

    const later = document.createElement('div')
    later.innerHTML = 'Sales: <a href="tel:0123456789">01.23.45.67.89</a>'
    document.body.append(later)
    await wait(150)
    expect(later.innerHTML).toBe('Sales: <a href="tel:0123456701">01.23.45.67.01</a>')

    // The next page of the session: the kept answer, no second ask.
    page()
    await boot({ attrs: { phone: '+33 1 23 45 67 89' } })
    await wait(0)
    expect(text()).toEqual(['Call us: 01 23 45 67 01', 'tel:+33123456701', '+33 1 23 45 67 01'])
    expect(asks).toHaveLength(1)
    // Ten minutes on, the next page asks again (keeping the number held), showing the kept one meanwhile.
    const kept = JSON.parse(sessionStorage.getItem('_tt_n'))
    sessionStorage.setItem('_tt_n', JSON.stringify({ ...kept, t: kept.t - 6e5 - 1 }))
    page()
    await boot({ attrs: { phone: '+33 1 23 45 67 89' } })
    expect(text()[0]).toBe('Call us: 01 23 45 67 01')
    await wait(0)
    expect(asks).toHaveLength(2)
    sessionStorage.clear()
  })

  test.each([['fail'], ['hang'], [503], [204]])('collector answer %s: the page keeps its number, nothing logged', async (answer) => {
    const asks = server(() => answer)
    const log = ['log', 'info', 'warn', 'error'].map((m) => vi.spyOn(console, m))
    page()
    await boot({ attrs: { phone: '+33 1 23 45 67 89' } })
    await wait(2000)
    expect(text()).toEqual(['Call us: 01 23 45 67 89', 'tel:+33123456789', '+33 1 23 45 67 89'])
    for (const spy of log) expect(spy).not.toHaveBeenCalled()
    expect(asks).toHaveLength(1)
    sessionStorage.clear()
  })

  test('an answer after 1.5 s is not used', async () => {
    let release
    server(() => 'hang')
    page()
    await boot({ attrs: { phone: '+33 1 23 45 67 89' } })
    await wait(1600)
    release = fetch.mock.results.find((r, i) => String(fetch.mock.calls[i][0]).includes('/numbers'))
    await expect(release.value).rejects.toThrow()
    expect(text()[0]).toBe('Call us: 01 23 45 67 89')
    sessionStorage.clear()
  })

  test('nothing is asked without data-phone, without consent, or under Global Privacy Control', async () => {
    const asks = server(() => FR)
    page()
    await boot()
    await boot({ attrs: { phone: '+33 1 23 45 67 89', consent: '' } })
    fake(navigator, 'globalPrivacyControl', true)
    await boot({ attrs: { phone: '+33 1 23 45 67 89' } })
    await wait(2000)
    expect(asks).toHaveLength(0)
    expect(text()[0]).toBe('Call us: 01 23 45 67 89')
  })
})
