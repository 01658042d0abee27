// Groups (doc/groups.js), align and distribute (doc/align.js), snapping (ui/snapping.js) and the
// tolerant reading of groupIds / locked (render/element.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { readElement } from '../src/render/element.js';
import {
  expandToGroups, groupPatches, levelGroup, regroupCopies, ungroupPatches, unitsOf,
} from '../src/doc/groups.js';
import { arrangePatches } from '../src/doc/align.js';
import { gridSnapBox, snapBox, snapPoint, snapTargets } from '../src/ui/snapping.js';

const rect = (id, x, y, w, h, groupIds = []) => ({
  id, type: 'rect', known: true, x, y, w, h, angle: 0, groupIds, points: [],
});

test('a click stands for the group at the entered level, innermost first', () => {
  const a = rect('a', 0, 0, 10, 10, ['inner', 'outer']);
  const b = rect('b', 20, 0, 10, 10, ['inner', 'outer']);
  const c = rect('c', 40, 0, 10, 10, ['outer']);
  const d = rect('d', 60, 0, 10, 10);
  const all = [a, b, c, d];
  assert.equal(levelGroup(a, null), 'outer');
  assert.equal(levelGroup(a, 'outer'), 'inner');
  assert.equal(levelGroup(a, 'inner'), null);
  assert.deepEqual(expandToGroups(all, ['a'], null), ['a', 'b', 'c']);
  assert.deepEqual(expandToGroups(all, ['a'], 'outer'), ['a', 'b']);
  assert.deepEqual(expandToGroups(all, ['a'], 'inner'), ['a']);
  assert.deepEqual(expandToGroups(all, ['d'], null), ['d']);
  assert.equal(unitsOf(all, null).length, 2);
  assert.equal(unitsOf([a, b, c], 'outer').length, 2);
});

test('grouping appends the new id (inside an entered group: just inside it); ungroup removes one level', () => {
  const a = rect('a', 0, 0, 10, 10, ['inner', 'outer']);
  const c = rect('c', 40, 0, 10, 10, ['outer']);
  const d = rect('d', 60, 0, 10, 10);
  assert.deepEqual(groupPatches([a, c, d], null, 'g'), [
    ['a', { groupIds: ['inner', 'outer', 'g'] }], ['c', { groupIds: ['outer', 'g'] }], ['d', { groupIds: ['g'] }],
  ]);
  assert.deepEqual(groupPatches([a, c], 'outer', 'g'), [
    ['a', { groupIds: ['inner', 'g', 'outer'] }], ['c', { groupIds: ['g', 'outer'] }],
  ]);
  assert.deepEqual(groupPatches([a], null, 'g'), [], 'one unit is not grouped again');
  assert.deepEqual(ungroupPatches([a, c, d], null), [['a', { groupIds: ['inner'] }], ['c', { groupIds: [] }]]);
  const copies = regroupCopies([{ groupIds: ['inner', 'outer'] }, { groupIds: ['outer'] }, {}]);
  assert.notEqual(copies[0].groupIds[1], 'outer');
  assert.equal(copies[0].groupIds[1], copies[1].groupIds[0]);
});

test('align moves units to the common edge; distribute makes equal gaps', () => {
  const a = rect('a', 0, 0, 10, 10, ['g']);
  const b = rect('b', 20, 5, 10, 10, ['g']);
  const c = rect('c', 100, 50, 30, 30);
  const patches = new Map(arrangePatches(unitsOf([a, b, c], null), 'align-right'));
  assert.deepEqual(patches.get('a'), { x: 100, y: 0 });
  assert.deepEqual(patches.get('b'), { x: 120, y: 5 });
  assert.equal(patches.has('c'), false);
  const middle = new Map(arrangePatches([[a], [c]], 'align-middle'));
  assert.deepEqual(middle.get('a'), { x: 0, y: 35 });
  const d = rect('d', 30, 0, 10, 10);
  const spread = new Map(arrangePatches([[a], [c], [d]], 'distribute-h'));
  assert.deepEqual(spread.get('d'), { x: 50, y: 0 }, 'gaps of (130 - 50) / 2 = 40');
  assert.equal(spread.size, 1);
  assert.deepEqual(arrangePatches([[a], [c]], 'distribute-v'), [], 'two units are not distributed');
});

test('snapping picks the nearest edge or centre within the threshold', () => {
  const targets = snapTargets([rect('t', 100, 100, 100, 100), rect('moving', 0, 0, 5, 5)], new Set(['moving']));
  assert.equal(targets.xs.length, 3);
  const s = snapBox({ minX: 146, minY: 400, maxX: 166, maxY: 420 }, targets, 8);
  assert.equal(s.dx, 4, 'the left edge is 4 from the centre line x = 150');
  assert.deepEqual(s.guides, [{ x1: 150, y1: 100, x2: 150, y2: 420 }]);
  assert.equal(s.dy, 0);
  const p = snapPoint({ x: 203, y: 97 }, targets, 8, { x: true, y: false });
  assert.deepEqual([p.x, p.y], [200, 97]);
  assert.deepEqual(gridSnapBox({ minX: 113, minY: 107, maxX: 0, maxY: 0 }, 20), { dx: 7, dy: -7 });
});

test('hostile groupIds and locked values are read inert', () => {
  const doc = new Y.Doc();
  const map = doc.getMap('elements');
  const el = new Y.Map();
  map.set('a', el);
  el.set('type', 'rect');
  el.set('groupIds', ['g1', '"><script>', 7, 'g1', null, ...Array.from({ length: 40 }, (_, i) => `x${i}`)]);
  el.set('locked', 'yes');
  const read = readElement('a', el);
  assert.deepEqual(read.groupIds.slice(0, 2), ['g1', 'x0'], 'only the first 32 items are read');
  assert.equal(read.groupIds.at(-1), 'x26');
  assert.equal(read.locked, false);
  el.set('groupIds', { g1: true });
  el.set('locked', true);
  assert.deepEqual(readElement('a', el).groupIds, []);
  assert.equal(readElement('a', el).locked, true);
});
