// Moves that are not a drag (tools/moves.js): arrow-key nudges and align/distribute update
// frame membership, carry a frame's content and keep connectors as a mouse drag does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { Scene } from '../src/render/scene.js';
import { createAttachments } from '../src/tools/attach.js';
import { arrangePatches } from '../src/doc/align.js';
import { movePatches, nudge } from '../src/tools/moves.js';

/** A page with a frame (0, 0, 300, 300) holding `member` (centre 250, 150); `free` right of it. */
function board() {
  const doc = new Y.Doc();
  const b = new Board(doc, () => 'ann');
  const scene = new Scene(b.elements, () => {});
  const app = { board: b, scene, camera: { zoom: 1 } };
  app.attach = createAttachments(app);
  const frame = b.create('frame', { x: 0, y: 0, w: 300, h: 300 });
  const member = b.create('rect', { x: 200, y: 100, w: 100, h: 100 });
  const free = b.create('rect', { x: 400, y: 100, w: 100, h: 100 });
  app.attach.adopt(frame);
  return { app, b, scene, frame, member, free };
}

const frameId = (b, id) => b.get(id).get('frameId') ?? '';

test('a member nudged out of its frame leaves it, and one undo brings it back in', () => {
  const { app, b, frame, member } = board();
  assert.equal(frameId(b, member), frame);
  nudge(app, [member], 60, 0); // centre 310: outside
  assert.deepEqual([b.get(member).get('x'), frameId(b, member)], [260, '']);
  b.undo();
  assert.deepEqual([b.get(member).get('x'), frameId(b, member)], [200, frame]);
});

test('a nudged frame carries its content; a locked member stays', () => {
  const { app, b, frame, member } = board();
  const locked = b.create('rect', { x: 20, y: 20, w: 50, h: 50 });
  app.attach.adopt(frame);
  b.update([[locked, { locked: true }]]);
  nudge(app, [frame], 10, 5);
  assert.deepEqual([b.get(frame).get('x'), b.get(member).get('x'), b.get(member).get('y')], [10, 210, 105]);
  assert.equal(b.get(locked).get('x'), 20);
  assert.equal(frameId(b, member), frame);
});

test('aligning a free box with a member brings it into the frame', () => {
  const { app, b, scene, frame, member, free } = board();
  scene.refresh();
  const units = [member, free].map((id) => [scene.byId.get(id)]);
  movePatches(app, arrangePatches(units, 'align-left'));
  assert.deepEqual([b.get(free).get('x'), frameId(b, free), frameId(b, member)], [200, frame, frame]);
  movePatches(app, arrangePatches([member, free].map((id) => [scene.byId.get(id)]), 'align-right'));
  assert.equal(frameId(b, free), frame);
});

test('a nudged connector bound to a shape that stays comes loose where it is drawn', () => {
  const { app, b, scene, free } = board();
  const arrow = b.create('arrow', { x: 600, y: 150, w: -100, h: 0, points: [0, 0, -100, 0] });
  b.update([[arrow, { endBindId: free, endAnchorX: 1, endAnchorY: 0.5 }]]);
  scene.refresh();
  nudge(app, [arrow], 0, 10);
  assert.equal(b.get(arrow).get('endBindId'), '');
  assert.equal(b.get(arrow).get('y'), scene.byId.get(arrow).y);
});

/** Turn the board's grid on (size `size`). */
function gridOn(b, size) {
  b.transact(() => {
    b.meta.set('gridEnabled', true);
    b.meta.set('gridSize', size);
  });
}

test('with the grid on a nudge is a grid step and lands on the grid; off, a pixel', () => {
  const { app, b, free } = board();
  b.update([[free, { x: 413, y: 107 }]]);
  nudge(app, [free], 1, 0); // grid off: 1 px
  assert.deepEqual([b.get(free).get('x'), b.get(free).get('y')], [414, 107]);
  gridOn(b, 20);
  nudge(app, [free], 1, 0); // 414 + 20 -> 434, onto 440; y 107 onto 100 as a drag puts it
  assert.deepEqual([b.get(free).get('x'), b.get(free).get('y')], [440, 100]);
  nudge(app, [free], 0, 1, { large: true }); // Shift: five grid steps
  assert.deepEqual([b.get(free).get('x'), b.get(free).get('y')], [440, 200]);
  nudge(app, [free], -1, 0);
  assert.equal(b.get(free).get('x'), 420);
  b.undo(); // one undo step per nudge
  assert.deepEqual([b.get(free).get('x'), b.get(free).get('y')], [440, 200]);
  nudge(app, [free], 1, 0, { offGrid: true }); // Alt: a pixel, off the grid
  assert.deepEqual([b.get(free).get('x'), b.get(free).get('y')], [441, 200]);
  nudge(app, [free], 0, -1, { offGrid: true, large: true }); // Alt Shift: 10 px
  assert.deepEqual([b.get(free).get('x'), b.get(free).get('y')], [441, 190]);
  b.transact(() => b.meta.set('gridEnabled', false));
  nudge(app, [free], 0, 1, { large: true }); // grid off, Shift: 10 px
  assert.deepEqual([b.get(free).get('x'), b.get(free).get('y')], [441, 200]);
});

test('a grid nudge snaps the selection box, not each element, and carries a frame', () => {
  const { app, b, frame, member, free } = board();
  gridOn(b, 30);
  b.update([[free, { x: 407, y: 95 }]]);
  nudge(app, [frame, free], 0, 1); // box top-left (0, 0) -> (0, 30): on the grid already
  assert.deepEqual([frame, member, free].map((id) => [b.get(id).get('x'), b.get(id).get('y')]),
    [[0, 30], [200, 130], [407, 125]]);
});
