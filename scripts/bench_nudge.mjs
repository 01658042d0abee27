// Nudge cost on a big board (issue 13): CPU time of one arrow-key nudge of all 10,000 elements
// (tools/moves.js `nudge`: the move, frame membership, and the scene re-read the next paint
// does), on a board without frames and on one whose 100 frames hold the other 9,900 elements.
// Run: node scripts/bench_nudge.mjs [SRC] (SRC: a frontend/src to measure, default this one's;
// e.g. an older commit's, from `git archive COMMIT frontend/src | tar -x -C /tmp/old`, with its
// frontend/node_modules linked to this one's).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(process.argv[2] ?? path.join(here, '../frontend/src'));
const load = (rel) => import(pathToFileURL(path.join(src, rel)).href);
const Y = await import(pathToFileURL(path.join(src, '../node_modules/yjs/dist/yjs.mjs')).href);
const { Board } = await load('doc/board.js');
const { Scene } = await load('render/scene.js');
const { createAttachments } = await load('tools/attach.js');
const { nudge } = await load('tools/moves.js');

const COUNT = 10_000;
const ROUNDS = 7;

/** CPU milliseconds (user + system) spent in `fn`: wall time is meaningless on a loaded host. */
function cpuMs(fn) {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

console.log(`frontend/src: ${src}`);
for (const frameCount of [0, 100]) {
  const doc = new Y.Doc();
  const board = new Board(doc, () => 'ann');
  const scene = new Scene(board.elements, () => {});
  const app = { board, scene, camera: { zoom: 1 } };
  app.attach = createAttachments(app);
  const frames = Array.from({ length: frameCount }, (_, i) => ({
    type: 'frame', x: (i % 10) * 1400 - 10, y: Math.floor(i / 10) * 1400 - 10, w: 1390, h: 1390,
  }));
  const shapes = Array.from({ length: COUNT - frameCount }, (_, i) => ({
    type: 'rect', x: (i % 100) * 140, y: Math.floor(i / 100) * 140, w: 100, h: 80,
  }));
  const ids = board.createMany([...frames, ...shapes]);
  for (const id of ids.slice(0, frameCount)) app.attach.adopt(id);
  scene.refresh();
  let bytes = 0;
  doc.on('update', (update) => { bytes += update.length; });
  const times = [];
  const sizes = [];
  for (let round = 0; round < ROUNDS; round++) {
    bytes = 0;
    times.push(cpuMs(() => {
      nudge(app, ids, 1, 0);
      scene.refresh(); // what the next paint re-reads
    }));
    sizes.push(bytes);
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`${frameCount} frames: nudge of all ${COUNT}: ${times.map((t) => t.toFixed(0)).join(', ')} ms CPU`
    + ` (median ${sorted[ROUNDS >> 1].toFixed(0)}); ${sizes[ROUNDS - 1]} B sent`);
}
