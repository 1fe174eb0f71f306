// Where the bytes of a build go: for each source module, the build's gzip -9
// size with that module and without it (its exports replaced by empty
// stubs, so everything else still bundles). The difference is the module's
// marginal cost; the costs do not add up to the total (gzip shares repeated
// text between modules).
//
//   node sizes.mjs            core build (tt.js)
//   node sizes.mjs tt.full.js
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { bundle, root, VARIANTS } from './build.mjs'

const variant = process.argv[2] || 'tt.js'
const gz = (c) => gzipSync(Buffer.from(c), { level: 9 }).length

// Every `export const|let|function NAME` of a module, as an opaque global of
// the same name: the minifier cannot see through it, so the code using it
// stays; what goes is the module's own code (and what only it uses).
const stub = (path) =>
  [...readFileSync(path, 'utf8').matchAll(/^export (?:const|let|function) (\w+)/gm)]
    .map(([, n]) => `export const ${n} = self.${n}`)
    .join('\n')

const modules = ['util', 'config', 'storage', 'campaign', 'identity', 'transport', 'capture', 'api', 'main']
  .map((m) => `src/${m}.js`)
  .concat(variant == 'tt.js' ? [] : ['clicks', 'engagement', 'forms', 'phone'].map((m) => `src/features/${m}.js`))

const total = gz(await bundle(VARIANTS[variant]))
console.log(`${variant}: ${total} B gzip -9\n\n| module | gzip without it | its cost |\n| --- | ---: | ---: |`)
for (const m of modules) {
  if (m == 'src/main.js') {
    // The entry point cannot be stubbed: its cost is what the rest leaves.
    continue
  }
  const file = join(root, m)
  const without = gz(
    await bundle(VARIANTS[variant], {
      name: 'stub',
      setup: (b) => b.onLoad({ filter: /\.js$/ }, (a) => (a.path == file ? { contents: stub(file), loader: 'js' } : undefined)),
    }),
  )
  console.log(`| ${m.slice(4)} | ${without} | ${total - without} |`)
}
