// Meeting signals read from hostile presence (meeting/signals.js), laser trails that add only
// new points and fade (meeting/laser.js), and comment pins on elements (doc/comments.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { CHAT_MAX_CHARS, LASER_FADE_MS, readSignals } from '../src/meeting/signals.js';
import { LaserTrails } from '../src/meeting/laser.js';
import { Comments, pinAt, pinPoint } from '../src/doc/comments.js';

test('signals keep only well-formed, capped values', () => {
  const long = `<b>${'x'.repeat(5000)}\u0007`;
  const s = readSignals({
    chat: { n: 3, text: long }, reaction: { n: 1, emoji: '<img>', x: 0, y: 0 },
    laser: { n: 5, pts: [[1, 2], [3, 'x']] }, summon: { n: -1 },
  });
  assert.equal(s.chat.text, long.slice(0, CHAT_MAX_CHARS));
  assert.deepEqual([s.reaction, s.laser, s.summon], [null, null, null]);
  const ok = readSignals({ reaction: { n: 2, emoji: '🎉', x: 1, y: 2 }, laser: { n: 9, pts: [[1, 2], [3, 4]] }, summon: { n: 7 } });
  assert.deepEqual(ok.laser.pts, [{ x: 1, y: 2 }, { x: 3, y: 4 }]);
  assert.equal(ok.reaction.emoji, '🎉');
  assert.deepEqual(ok.summon, { n: 7 });
  assert.deepEqual(readSignals({}), { laser: null, chat: null, reaction: null, summon: null });
});

test('a laser trail adds each point once and fades', () => {
  const trails = new LaserTrails();
  const pts = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => ({ x: from + i, y: 0 }));
  trails.add(1, '#e03131', 4, pts(0, 4), 0);
  trails.add(1, '#e03131', 6, pts(2, 6), 100); // repeats 2..4, adds 5 and 6
  trails.add(1, '#e03131', 6, pts(2, 6), 200); // a renewed state adds nothing
  assert.deepEqual(trails.trails.get(1).points.map((p) => p.x), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(trails.visiblePoints(LASER_FADE_MS + 50), 2);
  assert.equal(trails.visiblePoints(LASER_FADE_MS + 150), 0);
  trails.update([], 99);
  assert.equal(trails.trails.size, 0);
});

test('a pin placed on an element follows it when it moves and rotates', () => {
  const el = { id: 'r1', type: 'rect', x: 100, y: 100, w: 200, h: 100, angle: 0 };
  const pin = pinAt(150, 175, el);
  assert.deepEqual([pin.anchorX, pin.anchorY], [0.25, 0.75]);
  const thread = { ...pin, messages: [] };
  const scene = { byId: new Map([['r1', { ...el, x: 300 }]]) };
  assert.deepEqual(pinPoint(thread, scene), { x: 350, y: 175 });
  scene.byId.set('r1', { ...el, angle: Math.PI });
  const turned = pinPoint(thread, scene);
  assert.ok(Math.abs(turned.x - 250) < 1e-9 && Math.abs(turned.y - 125) < 1e-9);
  assert.deepEqual(pinPoint(thread, { byId: new Map() }), { x: 150, y: 175 });
});

test('comments are written only when allowed and read tolerantly', () => {
  const doc = new Y.Doc();
  let allowed = false;
  const comments = new Comments(doc, { author: () => 'Ann', canWrite: () => allowed });
  assert.equal(comments.create({ x: 1, y: 2 }, 'hi'), null);
  allowed = true;
  const id = comments.create({ x: 1, y: 2 }, '  hello  ');
  comments.reply(id, 'again');
  const [first] = comments.threads()[0].messages;
  comments.edit(id, first.id, 'hello!');
  comments.remove(id, comments.threads()[0].messages[1].id);
  comments.setResolved(id, true);
  doc.getMap('comments').set('bad id!', new Y.Map());
  doc.getMap('comments').get(id).set('anchorX', 'left');
  const [thread] = comments.threads();
  assert.equal(comments.threads().length, 1);
  assert.equal(thread.anchorX, 0.5);
  assert.equal(thread.resolved, true);
  assert.deepEqual(thread.messages.map((m) => [m.author, m.text, m.deleted, m.edited > 0]),
    [['Ann', 'hello!', false, true], ['Ann', '', true, false]]);
});
