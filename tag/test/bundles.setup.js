// Vitest global setup (runs in Node, outside jsdom where esbuild cannot
// start): builds every variant twice and hands the code to the tests.
import { variant, VARIANTS } from '../build.mjs'

export default async function setup(project) {
  const first = {}
  const second = {}
  for (const name of Object.keys(VARIANTS)) {
    first[name] = await variant(name)
    second[name] = await variant(name)
  }
  project.provide('bundles', first)
  project.provide('rebuilt', second)
}
