import { describe, expect, test, vi } from 'vitest'
import { fake, load } from './helpers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('util', () => {
  test('clean keeps strings, finite numbers and booleans, within the limits', async () => {
    const { clean } = await load('util.js')
    const fn = () => 1
    expect(
      clean({ plan: 'pro', n: 3, ok: true, no: false, nan: NaN, inf: Infinity, nul: null, u: undefined, o: { a: 1 }, arr: [1], f: fn, big: 10n, sym: Symbol('s') }),
    ).toEqual({ plan: 'pro', n: 3, ok: true, no: false })
    const long = clean({ ['k'.repeat(100)]: 'v'.repeat(1000) })
    expect(Object.keys(long)[0]).toHaveLength(64)
    expect(Object.values(long)[0]).toHaveLength(256)
    const many = clean(Object.fromEntries(Array.from({ length: 50 }, (_, i) => ['k' + i, i])))
    expect(Object.keys(many)).toHaveLength(30)
    expect(clean(undefined)).toEqual({})
    expect(clean(null)).toEqual({})
    expect(clean(42)).toEqual({})
    expect(clean('EUR')).toEqual({}) // tt('purchase', 'EUR'): a bad argument is dropped, not spread into characters
    expect(clean(['a', 'b'])).toEqual({})
  })

  test('cut caps strings (2,000 characters by default)', async () => {
    const { cut } = await load('util.js')
    expect(cut('x'.repeat(3000))).toHaveLength(2000)
    expect(cut('abcdef', 3)).toBe('abc')
    expect(cut(12)).toBe('12')
  })

  test('cut never splits a character: no unpaired surrogate reaches the beacon', async () => {
    const { cut, clean } = await load('util.js')
    const emoji = '\u{1F600}' // two UTF-16 units
    expect(cut('x'.repeat(255) + emoji, 256)).toBe('x'.repeat(255))
    expect(cut('x'.repeat(254) + emoji, 256)).toBe('x'.repeat(254) + emoji)
    expect(cut(emoji.repeat(1500), 1999)).toHaveLength(1998)
    expect(cut('x' + emoji.repeat(1500))).toHaveLength(1999)
    // A 256-character prop ending in an emoji: JSON that the collector accepts (no \ud83d escape).
    const props = clean({ note: 'y'.repeat(255) + emoji })
    expect(props.note).toBe('y'.repeat(255))
    expect(JSON.stringify(props)).not.toMatch(/\\ud[89ab]/i)
    const key = Object.keys(clean({ [emoji.repeat(40)]: 1 }))[0]
    expect(key).toBe(emoji.repeat(32))
  })

  test('uuid: crypto.randomUUID, or a blob: URL where it is missing (plain http)', async () => {
    const { uuid } = await load('util.js')
    expect(uuid()).toMatch(UUID)
    fake(crypto, 'randomUUID', undefined)
    const revoke = vi.spyOn(URL, 'revokeObjectURL')
    const ids = new Set(Array.from({ length: 50 }, () => uuid()))
    expect(ids.size).toBe(50)
    for (const id of ids) expect(id).toMatch(UUID)
    expect(revoke).toHaveBeenCalledTimes(50)
  })

  test('safe swallows errors', async () => {
    const { safe } = await load('util.js')
    expect(
      safe(() => {
        throw new Error('x')
      })(),
    ).toBeUndefined()
    expect(safe((a, b) => a + b)(1, 2)).toBe(3)
  })
})
