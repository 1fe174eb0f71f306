// Builds the tag: src/main.js and its modules -> one minified IIFE per
// variant in dist/. esbuild bundles and drops switched-off features (its
// `define` turns FEATURE_* into constants, dead code goes), terser then
// minifies a little harder than esbuild alone. Deterministic: the same
// sources and lockfile give byte-identical files.
//
//   dist/tt.js       core build, served by the collector at GET /tt.js
//                    (budget: 2,032 B gzipped, checked by test/size.test.js)
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

// V8's explicit compile hint: every function of the script is compiled with it
// (and kept in the code cache), instead of lazily when first called. The core's
// functions nearly all run on a page view, so a first visit skips their lazy
// compiles (measured: 5.79 -> 5.01 ms of main-thread CPU per first page view,
// later visits unchanged; docs/tag.md, Main thread) for 23 B gzipped. The full
// build's optional handlers mostly never run, so it goes without.
export const COMPILE_HINT = '//# allFunctionsCalledOnLoad\n'
const HINTED = new Set(['tt.js'])

// The file of one variant: its compile hint, if any, then its bundle.
export async function variant(name) {
  return (HINTED.has(name) ? COMPILE_HINT : '') + (await bundle(VARIANTS[name]))
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
  for (const name of Object.keys(VARIANTS)) {
    const code = await variant(name)
    writeFileSync(join(root, 'dist', name), code + '\n')
    const b = Buffer.from(code)
    console.log(`dist/${name}: ${b.length} B, ${gzipSync(b, { level: 9 }).length} B gzip, ${brotliCompressSync(b).length} B brotli`)
  }
}
