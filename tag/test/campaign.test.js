import { describe, expect, test } from 'vitest'
import { load } from './helpers.js'

describe('campaign', () => {
  test('finds utm_* and click ids, ignores other parameters', async () => {
    const { campaign } = await load('campaign.js')
    expect(campaign('https://a.com/?utm_source=google&utm_medium=cpc&page=2')).toBe('?utm_source=google&utm_medium=cpc')
    for (const id of ['gclid', 'gbraid', 'wbraid', 'dclid', 'msclkid', 'fbclid', 'ttclid', 'li_fat_id', 'twclid', 'rdt_cid', 'epik', 'sccid', 'qclid', 'irclid', 'mc_cid', '_kx'])
      expect(campaign(`https://a.com/p?x=1&${id}=abc`), id).toBe(`&${id}=abc`)
    expect(campaign('https://a.com/?UTM_Campaign=Spring')).toBe('?UTM_Campaign=Spring')
    expect(campaign('https://a.com/?page=1&id=2&product_id=3&cid=4')).toBe('')
    expect(campaign('https://a.com/')).toBe('')
    // hash routers carry the query after '#'
    expect(campaign('https://a.com/#/landing?utm_source=news')).toBe('?utm_source=news')
  })

  test('data-click-ids adds names', async () => {
    const { campaign } = await load('campaign.js', { attrs: { 'click-ids': 'yclid, s_kwcid my-id' } })
    expect(campaign('https://a.com/?yclid=1&s_kwcid=2&other=3&my-id=4')).toBe('?yclid=1&s_kwcid=2&my-id=4')
  })

})
