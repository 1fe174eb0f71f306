// Builds the real bundles: size budget, CSP safety, determinism, and a smoke
// test of the minified core running in the page.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { collector, fake, wait } from './helpers.js'

const BUDGET = 2032 // bytes gzipped (zlib level 9) for the core build (docs/tag.md, Size: where the bytes go)

const code = inject('bundles') // built by test/bundles.setup.js
const sizes = (c) => {
  const b = Buffer.from(c)
  return {
    raw: b.length,
    gzip: gzipSync(b, { level: 9 }).length,
    brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  }
}

beforeAll(() => {
  for (const [name, c] of Object.entries(code)) {
    const s = sizes(c)
    console.log(`${name}: ${s.raw} B raw, ${s.gzip} B gzip -9, ${s.brotli} B brotli`)
  }
})

describe('build', () => {
  test(`core tt.js is within ${BUDGET} B gzipped`, () => {
    expect(sizes(code['tt.js']).gzip).toBeLessThanOrEqual(BUDGET)
  })

  test('switched-off features are not shipped in the core', () => {
    for (const s of ['outbound_click', 'file_download', 'form_submit', 'engagement', 'page_not_found', 'hashchange', 'click-ids'])
      expect(code['tt.js'], s).not.toContain(s)
    for (const s of ['outbound_click', 'file_download', 'form_submit', 'engagement', 'page_not_found', 'hashchange', 'click-ids', 'numbers', 'MutationObserver'])
      expect(code['tt.full.js'], s).toContain(s)
    for (const s of ['numbers', 'MutationObserver', 'sessionStorage']) expect(code['tt.js'], s).not.toContain(s)
  })

  test('one IIFE, nothing a strict CSP forbids', () => {
    for (const c of Object.values(code)) {
      expect(c).toMatch(/^(\/\/# allFunctionsCalledOnLoad\n)?try\{\(\(\)=>\{[\s\S]*\}\)\(\)\}catch\{\}$/)
      for (const bad of ['eval(', 'Function(', 'innerHTML', 'document.write', 'setTimeout("', 'import(']) expect(c).not.toContain(bad)
    }
  })

  test('the core carries V8\'s compile hint on its first line, the full build does not', () => {
    expect(code['tt.js'].startsWith('//# allFunctionsCalledOnLoad\ntry{')).toBe(true)
    expect(code['tt.full.js'].startsWith('try{')).toBe(true)
  })

  test('deterministic', () => {
    expect(inject('rebuilt')).toEqual(code)
  })

  test('the minified core runs: page view, SPA view, tt() queue', async () => {
    const net = collector()
    const s = document.createElement('script')
    s.setAttribute('data-site', 'smoke')
    s.setAttribute('data-allow-automation', '')
    s.src = 'https://collect.example.com/tt.js'
    fake(document, 'currentScript', s)
    window.tt = function () {
      ;(window.tt.q = window.tt.q || []).push(arguments)
    }
    tt('track', 'queued', { n: 1 })
    new Function(code['tt.js'])() // the test runner may eval; the tag never does
    await wait(0) // the tag starts in a task of its own, after its script
    history.pushState(null, '', '/smoke')
    await wait(1000)
    expect(net.requests[0].url).toBe('https://collect.example.com/collect')
    expect(net.requests[0].body.site).toBe('smoke')
    expect(net.events().map((e) => e.name || e.url)).toEqual(['https://www.example.com/', 'queued', 'https://www.example.com/smoke'])
  })

  test('the minified core: nothing while prerendering, the view on activation; a bfcache restore is a view', async () => {
    const net = collector()
    const s = document.createElement('script')
    s.setAttribute('data-site', 'smoke')
    s.setAttribute('data-allow-automation', '')
    s.src = 'https://collect.example.com/tt.js'
    fake(document, 'currentScript', s)
    fake(document, 'prerendering', true)
    delete window.tt
    new Function(code['tt.js'])()
    tt('track', 'prerendered')
    await wait(1000)
    expect(net.requests).toEqual([])
    fake(document, 'prerendering', false)
    document.dispatchEvent(new Event('prerenderingchange'))
    await wait(1000)
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))
    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))
    await wait(1000)
    expect(net.events().map((e) => e.type + ' ' + (e.name || e.url))).toEqual([
      'pageview https://www.example.com/',
      'event prerendered',
      'pageview https://www.example.com/',
    ])
  })

  test('a broken setup throws nothing into the page', () => {
    collector()
    fake(document, 'currentScript', null) // e.g. loaded in an unexpected way
    for (const c of Object.values(code)) expect(() => new Function(c)()).not.toThrow()
  })

  test('odd data-click-ids cannot break the full build', async () => {
    const net = collector()
    const s = document.createElement('script')
    s.src = 'https://collect.example.com/tt.full.js'
    for (const [k, v] of Object.entries({ site: 's', 'allow-automation': '', 'click-ids': 'a(b, c[d, my-id' })) s.setAttribute('data-' + k, v)
    fake(document, 'currentScript', s)
    history.replaceState(null, '', '/?my-id=7')
    new Function(code['tt.full.js'])()
    await wait(0)
    expect(net.events('pageview')).toHaveLength(1)
  })
})
