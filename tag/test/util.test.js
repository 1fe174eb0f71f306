import { describe, expect, test, vi } from 'vitest'
import { fake, load } from './helpers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('util', () => {
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
