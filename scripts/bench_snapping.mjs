// Snapping cost on a big board (issue 13b): CPU time of the snap lines of 10,000 elements in
// view (once per drag), of one snapped move, and of the recompute after another page's change
// during a drag. Run: node scripts/bench_snapping.mjs
import { liveTargets, snapBox, snapTargets } from '../frontend/src/ui/snapping.js';

const COUNT = 10_000;
const MOVES = 1000;
const ROUNDS = 5;

const elements = Array.from({ length: COUNT }, (_, i) => ({
  id: `e${i}`, type: 'rect', known: true, x: (i % 100) * 140, y: Math.floor(i / 100) * 140,
  w: 100, h: 80, angle: i % 7 ? 0 : 0.3, groupIds: [], points: [],
}));

/** CPU milliseconds (user + system) spent in `fn`: wall time is meaningless on a loaded host. */
function cpuMs(fn) {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

for (let round = 1; round <= ROUNDS; round++) {
  let targets = null;
  const build = cpuMs(() => { targets = snapTargets(elements, new Set(['e0'])); });
  const move = cpuMs(() => {
    for (let i = 0; i < MOVES; i++) snapBox({ minX: 3 + i, minY: 7 + i, maxX: 103 + i, maxY: 87 + i }, targets, 8);
  });
  console.log(`round ${round}: snap lines of ${COUNT} elements ${build.toFixed(1)} ms; `
    + `one snapped move ${((move / MOVES) * 1000).toFixed(2)} µs`);
}

// The snap-target recompute during a drag: the targets are computed again after each change
// another page makes (tools/transform.js `snapContext`, `othersVersion`), so while Bob drags a
// shape on a 10,000-element board every one of his relayed moves costs Ann's drag a scene
// refresh (of the changed element) and then either the visible set and the sorted snap lines
// afresh ("full", as before) or the update of the changed element's lines (`liveTargets`,
// what the drag does now; each update is checked against the full recompute).
const Y = await import('../frontend/node_modules/yjs/dist/yjs.mjs'); // the copy frontend/src imports
const { Board } = await import('../frontend/src/doc/board.js');
const { Scene } = await import('../frontend/src/render/scene.js');
const REMOTE_MOVES = 50;
const ann = new Y.Doc();
const board = new Board(ann, () => 'ann');
const ids = board.createMany(elements.map(({ x, y, w, h }) => ({ type: 'rect', x, y, w, h })));
const bob = new Y.Doc();
Y.applyUpdate(bob, Y.encodeStateAsUpdate(ann));
const bobBoard = new Board(bob, () => 'bob');
const scene = new Scene(board.elements, () => {});
scene.refresh();
const views = {
  'zoomed to fit (all 10,000 in view)': { minX: -100, minY: -100, maxX: 14100, maxY: 14100 },
  'at 100 % (1280 x 800 px)': { minX: 2000, minY: 2000, maxX: 3280, maxY: 2800 },
};
const skip = new Set([ids[0]]);
for (let round = 1; round <= ROUNDS; round++) {
  const parts = [];
  for (const [name, view] of Object.entries(views)) {
    const live = liveTargets(scene, () => view, skip);
    live();
    let lines = 0;
    let refresh = 0;
    let full = 0;
    let incremental = 0;
    for (let i = 0; i < REMOTE_MOVES; i++) {
      const before = Y.encodeStateVector(ann);
      bobBoard.update([[ids[5050], { x: 7000 + round * 100 + i }]]); // one step of Bob's drag
      Y.applyUpdate(ann, Y.encodeStateAsUpdate(bob, before), 'server');
      refresh += cpuMs(() => scene.refresh()); // the page repaints for it anyway
      let want = null;
      let got = null;
      full += cpuMs(() => { want = snapTargets(scene.visible(view), skip); });
      incremental += cpuMs(() => { got = live(); });
      const same = (a, b) => JSON.stringify([a.xs.toArray(), a.ys.toArray()]) === JSON.stringify([b.xs.toArray(), b.ys.toArray()]);
      if (!same(got, want)) throw new Error('incremental snap lines differ');
      lines = want.xs.length;
    }
    parts.push(`${name}: full ${(full / REMOTE_MOVES).toFixed(2)} ms, incremental `
      + `${(incremental / REMOTE_MOVES).toFixed(3)} ms for ${lines / 3} targets`
      + ` (+ ${(refresh / REMOTE_MOVES).toFixed(2)} ms scene refresh)`);
  }
  console.log(`round ${round}: recompute after another page's move, ${parts.join('; ')}`);
}
