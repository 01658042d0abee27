// Snapping cost on a big board (issue 13b): CPU time of the snap lines of 10,000 elements in
// view (once per drag) and of one snapped move. Run: node scripts/bench_snapping.mjs
import { snapBox, snapTargets } from '../frontend/src/ui/snapping.js';

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
