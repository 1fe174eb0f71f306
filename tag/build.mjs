// Builds dist/tt.js (core) and dist/tt.full.js from src/ with esbuild
// (bundle, tree-shake) then terser (smaller output). Deterministic: same
// sources and lockfile give byte-identical files.
import { build as esbuild } from 'esbuild'
import { minify } from 'terser'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(fileURLToPath(import.meta.url))

// Build-time feature switches. A feature switched off is not in the file.
const ALL = ['CLICKS', 'FORMS', 'ENGAGEMENT', 'NOT_FOUND', 'HASH', 'CLICK_IDS']
const on = (...names) => Object.fromEntries(ALL.map((n) => ['FEATURE_' + n, names.includes(n)]))
export const VARIANTS = {
  'tt.js': on(),
  'tt.full.js': on(...ALL),
}

export async function bundle(features) {
  const define = {}
  for (const [k, v] of Object.entries(features)) define[k] = String(v)
  const r = await esbuild({
    entryPoints: [join(root, 'src/main.js')],
    bundle: true,
    format: 'iife',
    target: 'es2021',
    define,
    minify: false,
    treeShaking: true,
    legalComments: 'none',
    write: false,
  })
  const out = await minify(r.outputFiles[0].text, {
    ecma: 2021,
    toplevel: true,
    compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
    mangle: true,
    format: { comments: false },
  })
  return out.code
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(join(root, 'dist'), { recursive: true })
  for (const [name, features] of Object.entries(VARIANTS)) {
    const code = await bundle(features)
    writeFileSync(join(root, 'dist', name), code + '\n')
    console.log(`dist/${name} ${Buffer.byteLength(code)} B`)
  }
}
