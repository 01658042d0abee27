// Builds the browser whiteboard into dist/: app.js (one esbuild bundle), app.css, index.html, icons.
// Usage: node build.mjs [--watch] [--dev]. The backend serves dist/index.html at / and /b/<id>,
// and every file of dist/ under /static/.
import * as esbuild from 'esbuild';
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(rootDir, 'dist');
const watch = process.argv.includes('--watch');
const dev = process.argv.includes('--dev') || watch;

/** esbuild options: one ES2020 bundle; JSON from ../shared/ is inlined by the json loader. */
const options = {
  entryPoints: [join(rootDir, 'src/main.js')],
  bundle: true,
  format: 'esm',
  target: ['es2020'],
  outfile: join(outDir, 'app.js'),
  minify: !dev,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'info',
};

async function copyStatic() {
  await cp(join(rootDir, 'static'), outDir, { recursive: true });
}

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await copyStatic();
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
