// Builds the tag: src/main.js and its modules -> one minified IIFE per
// variant in dist/. esbuild bundles and drops switched-off features (its
// `define` turns FEATURE_* into constants, dead code goes), terser then
// minifies a little harder than esbuild alone. Deterministic: the same
// sources and lockfile give byte-identical files.
//
//   dist/tt.js       core build, served by the collector at GET /tt.js
//                    (budget: 2,009 B gzipped, checked by test/size.test.js)
//   dist/tt.full.js  every optional feature (outbound links, downloads,
//                    forms, engagement, 404, hash routing, extra click ids,
//                    call tracking's number insertion)
import { build as esbuild } from 'esbuild'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { minify } from 'terser'

export const root = dirname(fileURLToPath(import.meta.url))

// Build-time feature switches: FEATURE_<NAME> is true or false in a variant.
export const FEATURES = ['CLICKS', 'FORMS', 'ENGAGEMENT', 'NOT_FOUND', 'HASH', 'CLICK_IDS', 'PHONE']
const only = (...names) => Object.fromEntries(FEATURES.map((n) => ['FEATURE_' + n, names.includes(n)]))

export const VARIANTS = {
  'tt.js': only(),
  'tt.full.js': only(...FEATURES),
}

// Minified code of one variant: try { (() => { ... })() } catch {}
export async function bundle(features, plugin) {
  const r = await esbuild({
    entryPoints: [join(root, 'src/main.js')],
    bundle: true,
    format: 'iife',
    target: 'es2021', // Chrome/Edge 85+, Firefox 79+, Safari 14+
    define: Object.fromEntries(Object.entries(features).map(([k, v]) => [k, String(v)])),
    legalComments: 'none',
    // Module top-level code (reading data- attributes...) runs inside this
    // try too: a broken page setup can never throw into the host page.
    banner: { js: 'try{' },
    footer: { js: '}catch{}' },
    write: false,
    plugins: plugin ? [plugin] : [],
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(join(root, 'dist'), { recursive: true })
  for (const [name, features] of Object.entries(VARIANTS)) {
    const code = await bundle(features)
    writeFileSync(join(root, 'dist', name), code + '\n')
    const b = Buffer.from(code)
    console.log(`dist/${name}: ${b.length} B, ${gzipSync(b, { level: 9 }).length} B gzip, ${brotliCompressSync(b).length} B brotli`)
  }
}
