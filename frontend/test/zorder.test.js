// Fractional z keys and z-order changes (doc/zorder.js, doc/arrange.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareZ, keyBetween, keysAbove } from '../src/doc/zorder.js';
import { reorder } from '../src/doc/arrange.js';

const box = (minX, minY, maxX, maxY) => ({ minX, minY, maxX, maxY });

test('keys between neighbours sort between them, and new keys go on top', () => {
  const a = keyBetween(null, null);
  const b = keyBetween(a, null);
  const mid = keyBetween(a, b);
  assert.ok(a < mid && mid < b);
  const many = keysAbove(b, 50);
  assert.equal(many.length, 50);
  assert.ok(many.every((k, i) => k > (i ? many[i - 1] : b)));
  assert.ok(many.at(-1).length <= 4, 'appending keeps keys short');
});

test('a garbage stored key still yields a usable key', () => {
  assert.equal(typeof keyBetween('not a key!', null), 'string');
});

test('ties on z are broken by id', () => {
  const list = [{ z: 'a1', id: 'b' }, { z: 'a1', id: 'a' }, { z: 'a0', id: 'z' }].sort(compareZ);
  assert.deepEqual(list.map((e) => e.id), ['z', 'a', 'b']);
});

test('bring forward passes the next overlapping element, not a distant one', () => {
  const [k1, k2, k3] = keysAbove(null, 3);
  const ordered = [
    { id: 'low', z: k1, bounds: box(0, 0, 10, 10) },
    { id: 'far', z: k2, bounds: box(100, 100, 110, 110) },
    { id: 'over', z: k3, bounds: box(5, 5, 15, 15) },
  ];
  const moved = reorder(ordered, new Set(['low']), 'forward');
  assert.ok(moved.get('low') > k3);
  const back = reorder(ordered, new Set(['over']), 'backward');
  assert.ok(back.get('over') < k1);
});

test('to front and to back move the whole selection past everyone, keeping its order', () => {
  const keys = keysAbove(null, 4);
  const ordered = keys.map((z, i) => ({ id: `e${i}`, z, bounds: box(0, 0, 1, 1) }));
  const front = reorder(ordered, new Set(['e0', 'e1']), 'front');
  assert.ok(front.get('e0') > keys[3] && front.get('e1') > front.get('e0'));
  const back = reorder(ordered, new Set(['e2', 'e3']), 'back');
  assert.ok(back.get('e3') < keys[0] && back.get('e2') < back.get('e3'));
});
