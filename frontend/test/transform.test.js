// Snapping of a move (tools/transform.js `moveSnapper`): the dragged elements, and the content a
// dragged frame carries with it, are no snap targets; everything else in view is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { Scene } from '../src/render/scene.js';
import { createAttachments } from '../src/tools/attach.js';
import { moveSnapper } from '../src/tools/transform.js';
import { boxOf } from '../src/doc/align.js';

function page() {
  const board = new Board(new Y.Doc(), () => 'ann');
  const scene = new Scene(board.elements, () => {});
  const view = { minX: -1000, minY: -1000, maxX: 2000, maxY: 2000 };
  const app = { board, scene, camera: { zoom: 1, viewRect: () => view }, overlayState: {}, requestOverlay() {} };
  app.attach = createAttachments(app);
  return app;
}

test("a dragged frame snaps to what lies around it, not to where its own content started", () => {
  const app = page();
  const { board } = app;
  const frame = board.create('frame', { x: 0, y: 0, w: 300, h: 300 });
  const member = board.create('rect', { x: 103, y: 100, w: 50, h: 50 }); // lines x 103, 128, 153
  const locked = board.create('rect', { x: 20, y: 230, w: 50, h: 50, locked: true }); // stays put
  board.create('rect', { x: 500, y: 400, w: 100, h: 100 }); // free, outside
  app.attach.adopt(frame);
  assert.deepEqual([member, locked].map((id) => board.get(id).get('frameId')), [frame, frame]);
  const origins = new Map([[frame, { x: 0, y: 0 }]]);
  const snap = moveSnapper(app, origins.keys());
  app.attach.onMoveStart(origins); // as tools/select.js on the first move: the content joins
  assert.ok(origins.has(member) && !origins.has(locked));
  const keys = { alt: false };
  // 101: the frame's left edge 2 from the member's starting left edge (103): no snap.
  assert.deepEqual(snap(101, 0, keys), { dx: 101, dy: 0 });
  assert.deepEqual(app.overlayState.guides, []);
  // 198: its right edge 2 from the free box's left edge (500): snaps.
  assert.deepEqual(snap(198, 0, keys), { dx: 200, dy: 0 });
  // 17: its left edge 3 from the locked member's (20), which does not move with it: snaps.
  assert.deepEqual(snap(17, 0, keys), { dx: 20, dy: 0 });
});

test('nor to a connector whose end follows a member the frame carries', () => {
  const app = page();
  const { board, scene } = app;
  const frame = board.create('frame', { x: 0, y: 0, w: 300, h: 300 });
  const member = board.create('rect', { x: 200, y: 200, w: 50, h: 50 });
  const other = board.create('rect', { x: 600, y: 200, w: 50, h: 50 }); // free, outside
  const arrow = board.create('arrow', { x: 225, y: 225, w: 400, h: 0, points: [0, 0, 400, 0], startBindId: member, endBindId: other });
  app.attach.adopt(frame);
  assert.deepEqual([member, arrow].map((id) => board.get(id).get('frameId') ?? ''), [frame, '']);
  scene.refresh();
  const end = boxOf(scene.byId.get(arrow)).maxX; // a little left of the box it points at (600)
  assert.ok(end > 594 && end < 600, `the arrow ends at ${end}`);
  const snap = moveSnapper(app, [frame]);
  // The frame's right edge 1 left of the arrow's end: it snaps past it, to the box (600).
  assert.deepEqual(snap(end - 301, 0, { alt: false }), { dx: 300, dy: 0 });
});
