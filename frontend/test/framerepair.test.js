// Frame membership after concurrent edits (tools/framerepair.js): two pages (two Y.Docs, each
// with its Board, Scene and attachments) make a move and a resize without seeing each other,
// then exchange their updates as the server would relay them, in either order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { Scene } from '../src/render/scene.js';
import { createAttachments } from '../src/tools/attach.js';
import { STANDBY_MS } from '../src/tools/framerepair.js';

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

/** A move of `id` by `who`: the fields, then the settle at pointer up. */
function move(who, id, fields) {
  gesture(who, [[id, fields]], () => who.app.attach.settle([id]));
}

/** Let one page's own timers run (no other page hears of it). */
async function alone(ms = 20) {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Send `from` what `to` lacks (one direction only: `to` may be a page that then closes). */
function send(from, to) {
  Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)), 'server');
}

test("undoing a move out of a frame that someone else moved away leaves it in no frame", async () => {
  const { ann, bob, frame, member } = twoPages();
  move(ann, member, { x: 400 }); // out of the frame
  exchange(ann, bob);
  assert.deepEqual(frameIds(bob, [member]), ['']);
  move(bob, frame, { x: 1000 }); // the frame alone (the box is no member now)
  exchange(ann, bob);
  ann.board.undo(); // the box is back at x 50 and names the frame, which is far away now
  await alone();
  assert.equal(ann.board.get(member).get('x'), 50);
  assert.deepEqual(frameIds(ann, [member]), ['']);
  await settleDown(ann, bob);
  assert.deepEqual(bob.board.elements.toJSON(), ann.board.elements.toJSON());
});

test("redoing a move into a frame that someone else moved away leaves it in no frame", async () => {
  const { ann, bob, frame, free } = twoPages();
  move(ann, free, { x: 100 }); // into the frame
  assert.deepEqual(frameIds(ann, [free]), [frame]);
  ann.board.undo();
  exchange(ann, bob);
  move(bob, frame, { x: 1000 });
  exchange(ann, bob);
  ann.board.redo(); // back at x 100, naming the frame that is no longer there
  await alone();
  assert.equal(ann.board.get(free).get('x'), 100);
  assert.deepEqual(frameIds(ann, [free]), ['']);
  await settleDown(ann, bob);
  assert.deepEqual(bob.board.elements.toJSON(), ann.board.elements.toJSON());
});

test("the resizer's page repairs a box moved away when the mover's page closed first", async () => {
  const { ann, bob, frame, free } = twoPages();
  const carol = page('carol'); // a third page that saw the board: it leaves the repair to Ann
  send(ann, carol);
  const carolRepairs = repairsOf(carol);
  gesture(ann, [[frame, { w: 500 }]], () => ann.app.attach.reframe([frame])); // takes `free` in
  move(bob, free, { x: 900 }); // Bob's page closes before Ann's change reaches it
  send(bob, ann);
  send(bob, carol);
  await alone();
  assert.deepEqual(frameIds(ann, [free]), ['']);
  send(ann, carol);
  await alone(STANDBY_MS + 200);
  assert.deepEqual(frameIds(carol, [free]), ['']);
  assert.equal(carolRepairs.length, 0);
  assert.deepEqual(carol.board.elements.toJSON(), ann.board.elements.toJSON());
});

test('with both pages in the dispute closed, the pages left repair it once each, to one value', async () => {
  const { ann, bob, frame, member } = twoPages();
  const carol = page('carol');
  const dave = page('dave');
  for (const other of [carol, dave]) send(ann, other);
  gesture(ann, [[frame, { w: 200, h: 200 }]], () => ann.app.attach.reframe([frame]));
  move(bob, member, { x: 200, y: 200 }); // into the corner Ann's resize cuts off
  for (const other of [carol, dave]) {
    send(ann, other);
    send(bob, other); // then Ann and Bob close
  }
  const repairs = [repairsOf(carol), repairsOf(dave)];
  await alone(50);
  assert.deepEqual(frameIds(carol, [member]), [frame]); // left to Ann and Bob for a while
  await alone(STANDBY_MS + 200);
  assert.deepEqual([...frameIds(carol, [member]), ...frameIds(dave, [member])], ['', '']);
  for (let i = 0; i < 3; i++) {
    exchange(carol, dave);
    await alone(STANDBY_MS + 100);
  }
  assert.deepEqual(repairs.map((list) => list.length), [1, 1]); // no more: nothing left to repair
  assert.deepEqual(carol.board.elements.toJSON(), dave.board.elements.toJSON());
});

/** The repairs `who` writes from now on (their update sizes). */
function repairsOf(who) {
  const sizes = [];
  who.doc.on('update', (update, origin) => {
    if (origin === 'syncboard-repair') sizes.push(update.length);
  });
  return sizes;
}

/** Bytes of the updates `who` relays while `fn` runs (one per transaction, as the provider sends them). */
function relayed(who, fn) {
  let bytes = 0;
  const count = (update) => { bytes += update.length; };
  who.doc.on('update', count);
  fn();
  who.doc.off('update', count);
  return bytes;
}

test('the end of a resize or move of a frame with 2,000 members writes no member that stays', (t) => {
  const ann = page('ann');
  const frame = ann.board.create('frame', { x: 0, y: 0, w: 7500, h: 6000 });
  ann.board.createMany(Array.from({ length: 2000 }, (_, i) => ({
    type: 'rect', x: (i % 50) * 150, y: Math.floor(i / 50) * 150, w: 100, h: 100,
  })));
  ann.app.attach.adopt(frame);
  const resize = relayed(ann, () => gesture(ann, [[frame, { w: 7600 }]], () => ann.app.attach.transformed([frame])));
  const origins = new Map([[frame, { x: 0, y: 0 }]]);
  ann.board.beginGesture();
  ann.app.attach.onMoveStart(origins); // as tools/select.js: the frame's content joins the move
  ann.board.update([...origins].map(([id, o]) => [id, { x: o.x + 10, y: o.y }]));
  const moveEnd = relayed(ann, () => ann.app.attach.settle(origins.keys()));
  ann.board.endGesture();
  const box = ann.board.create('rect', { x: 9000, y: 0, w: 100, h: 100 });
  const freeMoveEnd = relayed(ann, () => move(ann, box, { x: 9100 })) - relayed(ann, () => ann.board.update([[box, { x: 9200 }]]));
  t.diagnostic(`resize end ${resize} B, frame move end ${moveEnd} B (${origins.size} moved), free box move end ${freeMoveEnd} B`);
  assert.equal(origins.size, 2001);
  assert.ok(resize < 200, `resize wrote ${resize} B`);
  assert.ok(moveEnd < 200, `the frame move's end wrote ${moveEnd} B`);
  assert.deepEqual(new Set(frameIds(ann, [...origins.keys()].filter((id) => id !== frame))), new Set([frame]));
});

/** A page whose Yjs client id is `clientID` (of two concurrent writes to a field, the higher id's wins). */
function pageWithId(name, clientID) {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  const board = new Board(doc, () => name);
  const scene = new Scene(board.elements, () => {});
  const app = { board, scene, camera: { zoom: 1 } };
  app.attach = createAttachments(app);
  return { doc, board, scene, app };
}

/** Relay among all `pages` until none lacks anything, letting their repair timers run between rounds. */
async function settleAll(pages, ms = 5) {
  for (let round = 0; round < 5; round++) {
    await alone(ms);
    for (const from of pages) for (const to of pages) if (from !== to) send(from, to);
  }
}

for (const [carolWins, bobStays] of [[true, true], [false, true], [true, false]]) {
  const order = (carolWins ? "the bystander's write wins the merge" : "the dragger's write wins the merge")
    + (bobStays ? '' : "; the dragger's page closes at once");

  test(`a bystander's repair during a long drag, reaching the dragger after it, leaves no member free inside its frame (${order})`, async (t) => {
    const ann = pageWithId('ann', 100);
    const bob = pageWithId('bob', 200);
    const carol = pageWithId('carol', carolWins ? 300 : 50);
    const frame = ann.board.create('frame', { x: 0, y: 0, w: 300, h: 300 });
    const member = ann.board.create('rect', { x: 50, y: 50, w: 100, h: 100 });
    ann.app.attach.adopt(frame);
    for (const other of [bob, carol]) send(ann, other);
    const repairs = [ann, bob, carol].map(repairsOf);
    // Bob drags the member out of the frame and holds it there; Carol sees the drag's steps.
    bob.board.beginGesture();
    bob.board.update([[member, { x: 400 }]]);
    send(bob, carol);
    // Ann, who has not seen Bob's steps yet, resizes the frame: its end marks the frame.
    gesture(ann, [[frame, { h: 320 }]], () => ann.app.attach.reframe([frame]));
    send(ann, carol);
    send(ann, bob);
    send(bob, ann);
    // Carol, in neither gesture, sees a member outside its frame and repairs after her standby.
    await alone(STANDBY_MS + 200);
    assert.deepEqual(frameIds(carol, [member]), ['']);
    send(carol, ann); // Bob's page hears of it only after his drag
    bob.board.update([[member, { x: 60 }]]); // back inside, and let go
    bob.app.attach.settle([member]);
    bob.board.endGesture();
    const open = bobStays ? [ann, bob, carol] : [ann, carol];
    if (!bobStays) for (const other of open) send(bob, other); // his last update goes out; he is gone
    await settleAll(open);
    await alone(STANDBY_MS + 200);
    await settleAll(open);
    for (const who of open) assert.deepEqual(frameIds(who, [member]), [frame]);
    for (const who of open) assert.deepEqual(who.board.elements.toJSON(), ann.board.elements.toJSON());
    const written = repairs.map((list) => list.length);
    await alone(STANDBY_MS + 200); // nothing left to repair: no more writes, on any page
    await settleAll(open);
    assert.deepEqual(repairs.map((list) => list.length), written);
    t.diagnostic(`repairs written by Ann, Bob, Carol: ${written.join(', ')}`);
  });
}

test('a free box lying in a frame it never joined (imported so, or a frame moved over it) stays free: no page repairs it', async () => {
  const { ann, bob, frame, member, free } = twoPages();
  const repairs = [repairsOf(ann), repairsOf(bob)];
  const origins = new Map([[frame, { x: 0, y: 0 }]]);
  ann.board.beginGesture();
  ann.app.attach.onMoveStart(origins); // the member comes along
  ann.board.update([...origins].map(([id, o]) => [id, { x: o.x + 300, y: o.y }])); // over `free`
  ann.app.attach.settle(origins.keys());
  ann.board.endGesture();
  const carol = page('carol'); // and a page that loads the board
  send(ann, carol);
  exchange(ann, bob);
  await alone(STANDBY_MS + 200);
  for (const who of [ann, bob, carol]) assert.deepEqual(frameIds(who, [member, free]), [frame, '']);
  assert.deepEqual(repairs.map((list) => list.length), [0, 0]);
});
