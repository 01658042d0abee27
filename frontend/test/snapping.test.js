// Snap targets kept up to date during a drag (ui/snapping.js `liveTargets`) equal the targets
// computed afresh, after random edits from this page and another one; and this page's own
// repairs do not count as another page's change (render/scene.js `othersVersion`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { Scene } from '../src/render/scene.js';
import { liveTargets, snapBox, snapTargets } from '../src/ui/snapping.js';

/** A deterministic random number generator (mulberry32). */
function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ann's page and Bob's document, synced both ways after every transaction. */
function pages() {
  const ann = new Y.Doc();
  const bob = new Y.Doc();
  ann.on('update', (u, origin) => origin !== 'relay' && Y.applyUpdate(bob, u, 'relay'));
  bob.on('update', (u, origin) => origin !== 'relay' && Y.applyUpdate(ann, u, 'relay'));
  const board = new Board(ann, () => 'ann');
  return { board, bobBoard: new Board(bob, () => 'bob'), scene: new Scene(board.elements, () => {}) };
}

test('snap targets kept up to date equal those computed afresh, after random edits', () => {
  const rnd = random(13);
  const int = (n) => Math.floor(rnd() * n);
  const { board, bobBoard, scene } = pages();
  const ids = board.createMany(Array.from({ length: 300 }, (_, i) => ({
    type: ['rect', 'ellipse', 'diamond', 'text'][i % 4], x: int(20) * 50, y: int(20) * 50, w: 40 + int(3) * 20, h: 40,
  })));
  const exclude = new Set(ids.slice(0, 5)); // the dragged ones
  let view = { minX: 0, minY: 0, maxX: 700, maxY: 600 };
  const live = liveTargets(scene, () => view, exclude);
  let incremental = 0;
  let previous = null;
  for (let round = 0; round < 400; round++) {
    const editor = rnd() < 0.7 ? bobBoard : board;
    const some = ids[int(ids.length)];
    const kind = int(10);
    if (kind < 5) editor.update([[some, { x: int(25) * 40 + int(2) * 0.5, y: int(25) * 40 }]]);
    else if (kind === 5) editor.update([[some, { w: 20 + int(100), angle: rnd() < 0.5 ? 0 : rnd() }]]);
    else if (kind === 6 && editor.get(some)) editor.remove([some]);
    else if (kind === 7) ids.push(editor.create('rect', { x: int(1000), y: int(1000), w: 30, h: 30 }));
    else if (kind === 8) editor.update(ids.slice(int(50), 60).map((id) => [id, { y: int(900) }]));
    else view = { minX: int(300), minY: int(300), maxX: 600 + int(600), maxY: 500 + int(600) };
    const got = live();
    if (previous === got.xs) incremental++;
    previous = got.xs;
    const want = snapTargets(scene.visible(view), exclude);
    assert.deepEqual([got.xs.toArray(), got.ys.toArray()], [want.xs.toArray(), want.ys.toArray()], `round ${round}`);
    for (let i = 0; i < 5; i++) {
      const x = int(1000);
      const y = int(1000);
      const box = { minX: x, minY: y, maxX: x + 10 + int(100), maxY: y + 10 + int(100) };
      assert.deepEqual(snapBox(box, got, 8), snapBox(box, want, 8));
    }
  }
  assert.ok(incremental > 250, `${incremental} of 400 updates were incremental`);
});

test('a repair this page writes is not another page\'s change', () => {
  const { board, bobBoard, scene } = pages();
  const id = board.create('rect', { x: 0, y: 0, w: 10, h: 10 });
  scene.refresh();
  const before = scene.othersVersion;
  board.repair([[id, { frameId: '' }], [id, { x: 5 }]]);
  scene.refresh();
  assert.equal(scene.othersVersion, before);
  bobBoard.update([[id, { x: 9 }]]);
  assert.equal(scene.othersVersion, before + 1);
});

test('after more changes than the scene logs, the targets are computed afresh, still equal', () => {
  const { board, scene } = pages();
  const [a, b] = board.createMany([{ type: 'rect', x: 0, y: 0, w: 10, h: 10 }, { type: 'rect', x: 50, y: 0, w: 10, h: 10 }]);
  const view = { minX: -100, minY: -100, maxX: 1000, maxY: 1000 };
  const live = liveTargets(scene, () => view, new Set([a]));
  live();
  const cursor = scene.changeCursor;
  for (let i = 1; i <= 300; i++) {
    board.update([[a, { x: i }]]);
    scene.refresh();
  }
  board.update([[b, { x: 70 }]]);
  assert.equal(scene.changedSince(cursor), null, 'the log no longer reaches back');
  assert.deepEqual(live().xs.toArray(), snapTargets(scene.visible(view), new Set([a])).xs.toArray());
  assert.equal(live().xs.at(0).v, 70);
});
