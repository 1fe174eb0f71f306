// Page close as Chromium orders it: pagehide while the page still reports "visible",
// then visibilitychange to hidden. One engagement event, not two.
import { describe, expect, test } from 'vitest'
import { boot, collector, hide, wait } from './helpers.js'

describe('engagement on page close', () => {
  test('data-engagement: closing the page (pagehide, then visibilitychange) sends one engagement event', async () => {
    const net = collector()
    await boot({ attrs: { engagement: '' } })
    await wait(4000)
    window.dispatchEvent(new Event('pagehide')) // Chromium: pagehide first, page still "visible"
    await wait(5)
    hide() // then visibilitychange to hidden
    await wait(1000)
    const eng = net.events('engagement')
    expect(eng.map((e) => e.props)).toEqual([{ engaged_ms: 4000, scroll_pct: expect.any(Number) }])
  })
})
