// Schema 2 in the page: reading the new fields tolerantly, routing in the scene (a bound end
// follows its target, on any change), and what deleting a target or moving a connector does
// (tools/attach.js through doc/board.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { SCHEMA_VERSION, elementDefaults } from '../src/doc/schema.js';
import { Scene } from '../src/render/scene.js';
import { readElement } from '../src/render/element.js';
import { createAttachments } from '../src/tools/attach.js';

function setup() {
  const doc = new Y.Doc();
  const board = new Board(doc, () => 'ann');
  const scene = new Scene(board.elements, () => {});
  const app = { board, scene, camera: { zoom: 1 } };
  app.attach = createAttachments(app);
  board.beforeRemove = (ids) => app.attach.detachFrom(ids);
  return { doc, board, scene, app };
}

function drawn(scene, id) {
  scene.refresh();
  const el = scene.byId.get(id);
  const out = [];
  for (let i = 0; i < el.points.length; i += 2) out.push([el.x + el.points[i], el.y + el.points[i + 1]]);
  return out;
}

/** Point lists equal to within 1e-6. */
function near(got, want) {
  assert.equal(got.length, want.length, JSON.stringify(got));
  got.forEach(([x, y], i) => {
    assert.ok(Math.abs(x - want[i][0]) < 1e-6 && Math.abs(y - want[i][1]) < 1e-6, JSON.stringify(got));
  });
}

test('schema 2: version, new types and defaults come from the schema', () => {
  assert.equal(SCHEMA_VERSION, 2);
  assert.equal(elementDefaults('frame').name, 'Frame');
  assert.equal(elementDefaults('rect').align, 'center');
  assert.equal(elementDefaults('text').align, 'left');
  assert.equal(elementDefaults('arrow').routing, 'straight');
  assert.equal(elementDefaults('arrow').startAnchorX, 0.5);
});

test('hostile schema 2 values fall back or are clamped', () => {
  const doc = new Y.Doc();
  const m = new Y.Map();
  doc.getMap('elements').set('a', m);
  for (const [k, v] of Object.entries({
    type: 'arrow', points: [0, 0, 10, 0], startBindId: '"><script>', endBindId: 'x'.repeat(65),
    startAnchorX: Infinity, endAnchorY: -4, routing: 'javascript:', strokeStyle: 'url(#x)', frameId: 42,
  })) m.set(k, v);
  const el = readElement('a', m);
  assert.deepEqual([el.startBindId, el.endBindId, el.frameId], ['', '', '']);
  assert.deepEqual([el.startAnchorX, el.endAnchorY, el.routing, el.strokeStyle], [0.5, 0, 'straight', 'solid']);
});

test('a bound end follows its target, whoever moves it, and new shapes carry an empty Y.Text label', () => {
  const { board, scene } = setup();
  const a = board.create('rect', { x: 0, y: 0, w: 100, h: 100 });
  const b = board.create('rect', { x: 300, y: 0, w: 100, h: 100 });
  assert.ok(board.get(a).get('label') instanceof Y.Text);
  const arrow = board.create('arrow', { x: 50, y: 50, points: [0, 0, 300, 0], startBindId: a, endBindId: b });
  near(drawn(scene, arrow), [[104, 50], [296, 50]]);
  board.update([[b, { y: 300 }]]); // only the target changes: the connector is re-routed
  const k = 2 * Math.SQRT2; // the centre line now runs through the boxes' corners, 4 units short
  near(drawn(scene, arrow), [[100 + k, 100 + k], [300 - k, 300 - k]]);
  assert.equal(scene.byId.get(arrow).angle, 0);
});

test('deleting a target keeps the drawn end, drops the binding, and one undo restores both', () => {
  const { board, scene } = setup();
  const a = board.create('rect', { x: 0, y: 0, w: 100, h: 100 });
  const b = board.create('rect', { x: 300, y: 0, w: 100, h: 100 });
  const arrow = board.create('arrow', { x: 50, y: 50, points: [0, 0, 300, 0], startBindId: a, endBindId: b });
  const before = drawn(scene, arrow);
  board.remove([b]);
  assert.equal(board.get(arrow).get('endBindId'), '');
  assert.equal(board.get(arrow).get('startBindId'), a);
  near(drawn(scene, arrow), before);
  board.undo();
  assert.equal(board.get(arrow).get('endBindId'), b);
  assert.ok(board.get(b));
});

test('moving a connector alone unbinds it where it is drawn; moving a frame moves what it holds', () => {
  const { board, scene, app } = setup();
  const a = board.create('rect', { x: 0, y: 0, w: 100, h: 100 });
  const arrow = board.create('arrow', { x: 50, y: 50, points: [0, 0, 300, 0], startBindId: a });
  scene.refresh();
  const origins = new Map([[arrow, { x: scene.byId.get(arrow).x, y: scene.byId.get(arrow).y }]]);
  app.attach.onMoveStart(origins);
  assert.equal(board.get(arrow).get('startBindId'), '');
  near(drawn(scene, arrow), [[104, 50], [350, 50]]);
  near([[origins.get(arrow).x, origins.get(arrow).y]], [[104, 50]]);

  const frame = board.create('frame', { x: -50, y: -50, w: 600, h: 400 });
  app.attach.adopt(frame);
  assert.equal(board.get(a).get('frameId'), frame);
  const moving = new Map([[frame, { x: -50, y: -50 }]]);
  app.attach.onMoveStart(moving);
  assert.ok(moving.has(a) && moving.has(arrow));
  board.update([[a, { x: 600 }]]);
  app.attach.settle([a]); // its centre (650, 50) is now outside the frame
  assert.equal(board.get(a).get('frameId'), '');
});

test('a target removed without unbinding (an undo, an older client) is repaired where it was drawn', () => {
  const { board, scene } = setup();
  scene.onOrphaned = (patches) => board.repairConnectors(patches);
  const a = board.create('rect', { x: 0, y: 0, w: 100, h: 100 });
  const b = board.create('rect', { x: 300, y: 0, w: 100, h: 100 });
  const arrow = board.create('arrow', { x: 0, y: 0, points: [0, 0, 10, 10], startBindId: a, endBindId: b });
  board.update([[b, { y: 200 }]]);
  const before = drawn(scene, arrow);
  const undoSteps = board.undoManager.undoStack.length;
  board.elements.delete(b); // what an older client's delete or an undo does: no unbinding
  scene.refresh(); // sees the target gone, writes the repair
  assert.equal(board.get(arrow).get('endBindId'), '');
  assert.equal(board.get(arrow).get('startBindId'), a);
  near(drawn(scene, arrow), before);
  assert.equal(board.undoManager.undoStack.length, undoSteps); // not this user's edit to undo
});

test('copies of bound shapes and their connector stay bound to each other; other targets let go', () => {
  const { board, scene, app } = setup();
  const a = board.create('rect', { x: 0, y: 0, w: 100, h: 100 });
  const b = board.create('rect', { x: 300, y: 0, w: 100, h: 100 });
  const arrow = board.create('arrow', { x: 50, y: 50, points: [0, 0, 300, 0], startBindId: a, endBindId: b });
  scene.refresh();
  const copy = (id) => ({ ...board.get(id).toJSON(), y: board.get(id).get('y') + 500, z: undefined });
  const ids = board.createMany([copy(a), copy(arrow)]);
  app.attach.copied([a, arrow], ids);
  assert.equal(board.get(ids[1]).get('startBindId'), ids[0]);
  assert.equal(board.get(ids[1]).get('endBindId'), ''); // b was not copied
  near(drawn(scene, ids[1]), [[104, 550], [350, 550]]);
});
