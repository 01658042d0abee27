// Builds the browser whiteboard into dist/: app.js (one esbuild bundle), app.css, index.html, icons,
// fonts/ (the board's font, from ../shared/fonts/),
// and sw.js (the service worker, stamped with a hash of the build so a new build replaces it).
// Usage: node build.mjs [--watch] [--dev]. The backend serves dist/index.html at / and /b/<id>,
// and every file of dist/ under /static/.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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

/** static/ as it is, and the bundled font (with its licence) from ../shared/fonts/ as fonts/. */
async function copyStatic() {
  await cp(join(rootDir, 'static'), outDir, { recursive: true });
  await cp(join(rootDir, '..', 'shared', 'fonts'), join(outDir, 'fonts'), { recursive: true });
}

/** dist/sw.js: the service worker with BUILD = a hash of the files it caches. */
async function writeServiceWorker() {
  const hash = createHash('sha256');
  for (const name of ['app.js', 'app.css', 'index.html', 'favicon.svg']) {
    hash.update(await readFile(join(outDir, name)));
  }
  const source = await readFile(join(rootDir, 'src/offline/service-worker.js'), 'utf8');
  const build = hash.digest('hex').slice(0, 16);
  await writeFile(join(outDir, 'sw.js'), `const BUILD = ${JSON.stringify(build)};\n${source}`);
}

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await copyStatic();
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.rebuild();
  await writeServiceWorker(); // not re-stamped on rebuilds: it serves the network first anyway
  await ctx.watch();
} else {
  await esbuild.build(options);
  await writeServiceWorker();
}
