// Tolerant reading of stored elements (render/element.js) per shared/BOARD.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { readElement, frameOf } from '../src/render/element.js';
import { elementDefaults, MAX_POINT_NUMBERS, ELEMENT_TYPES } from '../src/doc/schema.js';

function stored(fields) {
  const doc = new Y.Doc();
  const map = doc.getMap('elements');
  const element = new Y.Map();
  map.set('el1', element);
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'points') {
      const points = new Y.Array();
      points.push(value);
      element.set(key, points);
    } else if (key === 'text') {
      element.set(key, new Y.Text(value));
    } else {
      element.set(key, value);
    }
  }
  return element;
}

test('the schema gives every type, the sticky defaults and the points cap', () => {
  assert.deepEqual(ELEMENT_TYPES, ['stroke', 'rect', 'ellipse', 'line', 'arrow', 'text', 'sticky', 'image', 'diamond', 'frame']);
  assert.equal(elementDefaults('sticky').fill, '#fff3a3');
  assert.equal(elementDefaults('frame').name, 'Frame');
  assert.equal(elementDefaults('sticky').w, 200);
  assert.equal(elementDefaults('arrow').arrowEnd, true);
  assert.equal(MAX_POINT_NUMBERS, 2000);
});

test('missing, wrong-typed and out-of-range fields fall back or are clamped', () => {
  const el = readElement('el1', stored({
    type: 'rect', x: 'left', y: Infinity, w: -50, h: 20, stroke: 'red" onload="x', opacity: 7, strokeWidth: -3,
  }));
  assert.equal(el.known, true);
  assert.equal(el.x, -50); // default 0, then a negative width is normalised: x += w
  assert.equal(el.w, 50);
  assert.equal(el.y, 0);
  assert.equal(el.stroke, '#1e1e1e');
  assert.equal(el.opacity, 1);
  assert.equal(el.strokeWidth, 0);
});

test('a sticky without a fill takes the sticky default, its text comes from the Y.Text', () => {
  const el = readElement('el1', stored({ type: 'sticky', x: 1, y: 2, text: 'hi' }));
  assert.equal(el.fill, '#fff3a3');
  assert.equal(el.w, 200);
  assert.equal(el.text, 'hi');
});

test('unknown types, point types without points and bad ids are kept but not drawable', () => {
  assert.equal(readElement('el1', stored({ type: 'hexagon' })).known, false);
  assert.equal(readElement('el1', stored({ type: 'stroke', points: [] })).known, false);
  assert.equal(readElement('bad id!', stored({ type: 'rect' })).known, false);
  assert.equal(readElement('el1', 'not a map'), null);
});

test('a point type frames the box of its points; odd and non-finite numbers are dropped', () => {
  const el = readElement('el1', stored({ type: 'line', x: 100, y: 50, points: [10, 20, 40, 60, 5] }));
  assert.deepEqual(el.points, [10, 20, 40, 60]);
  assert.deepEqual(frameOf(el), { x: 110, y: 70, w: 30, h: 40 });
});

test('bounds of a rotated element cover its rotated corners', () => {
  const el = readElement('el1', stored({ type: 'rect', x: 0, y: 0, w: 100, h: 20, angle: Math.PI / 2, strokeWidth: 0 }));
  assert.ok(Math.abs(el.bounds.minY - -40) < 1.01 && Math.abs(el.bounds.maxY - 60) < 1.01);
  assert.ok(Math.abs(el.bounds.minX - 40) < 1.01 && Math.abs(el.bounds.maxX - 60) < 1.01);
});
