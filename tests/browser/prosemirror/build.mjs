// Bundles src/editor.js into OUT_DIR/editor.js (esbuild, one ES2020 file) next to index.html.
// Usage: node build.mjs [OUT_DIR] (default dist/). tests/browser/test_prosemirror.py builds
// into a temporary folder and serves it.
import * as esbuild from 'esbuild'
import { copyFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const rootDir = dirname(fileURLToPath(import.meta.url))
const outDir = process.argv[2] ?? join(rootDir, 'dist')
await mkdir(outDir, { recursive: true })
await copyFile(join(rootDir, 'src', 'index.html'), join(outDir, 'index.html'))
await esbuild.build({
  entryPoints: [join(rootDir, 'src', 'editor.js')],
  bundle: true,
  format: 'esm',
  target: ['es2020'],
  outfile: join(outDir, 'editor.js'),
  logLevel: 'warning'
})
