// Frame membership after concurrent edits (tools/framerepair.js): two pages (two Y.Docs, each
// with its Board, Scene and attachments) make a move and a resize without seeing each other,
// then exchange their updates as the server would relay them, in either order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { Scene } from '../src/render/scene.js';
import { createAttachments } from '../src/tools/attach.js';

function page(name) {
  const doc = new Y.Doc();
  const board = new Board(doc, () => name);
  const scene = new Scene(board.elements, () => {});
  const app = { board, scene, camera: { zoom: 1 } };
  app.attach = createAttachments(app);
  return { doc, board, scene, app };
}

/** Send each page what the other has and it lacks, until neither lacks anything. */
function exchange(a, b) {
  for (let i = 0; i < 10; i++) {
    const toB = Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc));
    const toA = Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc));
    Y.applyUpdate(b.doc, toB, 'server');
    Y.applyUpdate(a.doc, toA, 'server');
    if (toB.length <= 2 && toA.length <= 2) return; // an empty update is 2 bytes
  }
}

/** Let the pages' repairs (a timer each) run, relay them, until nothing changes. */
async function settleDown(a, b) {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    exchange(a, b);
  }
}

/** A gesture of `who`: its writes, then `end` (the settle or reframe at pointer up). */
function gesture(who, writes, end) {
  who.board.beginGesture();
  who.board.update(writes);
  end();
  who.board.endGesture();
}

/** Ann's frame (0, 0, 300, 300) holds `member`; `free` is right of it. Both pages have it. */
function twoPages() {
  const ann = page('ann');
  const bob = page('bob');
  const frame = ann.board.create('frame', { x: 0, y: 0, w: 300, h: 300 });
  const member = ann.board.create('rect', { x: 50, y: 50, w: 100, h: 100 });
  const free = ann.board.create('rect', { x: 350, y: 50, w: 100, h: 100 });
  ann.app.attach.adopt(frame);
  exchange(ann, bob);
  assert.equal(bob.board.get(member).get('frameId'), frame);
  return { ann, bob, frame, member, free };
}

function frameIds(who, ids) {
  return ids.map((id) => who.board.get(id).get('frameId') ?? '');
}

for (const annFirst of [true, false]) {
  const order = annFirst ? "Ann's update first" : "Bob's update first";

  test(`a box moved away while a resize takes it in ends free on both pages (${order})`, async () => {
    const { ann, bob, frame, member, free } = twoPages();
    gesture(ann, [[frame, { w: 500 }]], () => ann.app.attach.reframe([frame])); // takes `free` in
    assert.equal(ann.board.get(free).get('frameId'), frame);
    gesture(bob, [[free, { x: 900 }]], () => bob.app.attach.settle([free])); // far right
    if (annFirst) Y.applyUpdate(bob.doc, Y.encodeStateAsUpdate(ann.doc, Y.encodeStateVector(bob.doc)));
    await settleDown(ann, bob);
    assert.deepEqual(bob.board.elements.toJSON(), ann.board.elements.toJSON());
    assert.deepEqual(frameIds(ann, [member, free]), [frame, '']);
  });

  test(`a member moved into the corner a resize cuts off ends free on both pages (${order})`, async () => {
    const { ann, bob, frame, member } = twoPages();
    gesture(ann, [[frame, { w: 200, h: 200 }]], () => ann.app.attach.reframe([frame])); // keeps it
    gesture(bob, [[member, { x: 200, y: 200 }]], () => bob.app.attach.settle([member]));
    assert.equal(bob.board.get(member).get('frameId'), frame); // inside the frame as Bob sees it
    if (annFirst) Y.applyUpdate(bob.doc, Y.encodeStateAsUpdate(ann.doc, Y.encodeStateVector(bob.doc)));
    await settleDown(ann, bob);
    assert.deepEqual(bob.board.elements.toJSON(), ann.board.elements.toJSON());
    assert.deepEqual(frameIds(ann, [member]), ['']);
  });
}

test('a member that leaves for another frame joins the topmost frame around it', async () => {
  const { ann, bob, frame, member } = twoPages();
  const other = ann.board.create('frame', { x: 180, y: 180, w: 200, h: 200 });
  exchange(ann, bob);
  gesture(ann, [[frame, { w: 200, h: 200 }]], () => ann.app.attach.reframe([frame]));
  gesture(bob, [[member, { x: 200, y: 200 }]], () => bob.app.attach.settle([member]));
  await settleDown(ann, bob);
  assert.deepEqual(bob.board.elements.toJSON(), ann.board.elements.toJSON());
  assert.deepEqual(frameIds(bob, [member]), [other]);
});

test('nothing is repaired in the middle of a drag, and an undo keeps the membership it had', async () => {
  const { ann, bob, frame, member } = twoPages();
  bob.board.update([[member, { x: 60 }]]); // Bob last moved the member
  bob.app.attach.settle([member]);
  exchange(ann, bob);
  // Ann's resize passes over the member and back; her page relays every step at once.
  ann.board.beginGesture();
  ann.board.update([[frame, { w: 100 }]]); // the member's centre (110, 100) is outside now
  await settleDown(ann, bob);
  assert.equal(bob.board.get(member).get('frameId'), frame); // Bob does not act mid-drag
  ann.board.update([[frame, { w: 320 }]]);
  ann.app.attach.reframe([frame]);
  ann.board.endGesture();
  await settleDown(ann, bob);
  assert.deepEqual(frameIds(bob, [member]), [frame]);
  ann.board.undo();
  await settleDown(ann, bob);
  assert.equal(bob.board.get(frame).get('w'), 300);
  assert.deepEqual(frameIds(bob, [member]), [frame]);
  assert.deepEqual(bob.board.elements.toJSON(), ann.board.elements.toJSON());
});

test('a repair is not an undo step of the page that makes it', async () => {
  const { ann, bob, frame, free } = twoPages();
  gesture(ann, [[frame, { w: 500 }]], () => ann.app.attach.reframe([frame]));
  gesture(bob, [[free, { x: 900 }]], () => bob.app.attach.settle([free]));
  const steps = [ann, bob].map((who) => who.board.undoManager.undoStack.length);
  await settleDown(ann, bob);
  assert.equal(ann.board.get(free).get('frameId'), ''); // repaired, by Bob's page
  assert.deepEqual([ann, bob].map((who) => who.board.undoManager.undoStack.length), steps);
});
