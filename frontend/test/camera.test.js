// Camera arithmetic (view/camera.js) and hit testing (render/hit.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Camera, MAX_ZOOM } from '../src/view/camera.js';
import { segmentDistance, elementContains } from '../src/render/hit.js';

test('zooming keeps the world point under the pointer fixed, within limits', () => {
  const camera = new Camera();
  camera.setSize(800, 600);
  const before = camera.toWorld(200, 150);
  camera.zoomAt(2.5, 200, 150);
  const after = camera.toWorld(200, 150);
  assert.ok(Math.abs(before.x - after.x) < 1e-9 && Math.abs(before.y - after.y) < 1e-9);
  camera.zoomAt(1000, 0, 0);
  assert.equal(camera.zoom, MAX_ZOOM);
});

test('fit shows the whole rectangle centred', () => {
  const camera = new Camera();
  camera.setSize(1000, 500);
  camera.fit({ minX: 0, minY: 0, maxX: 2000, maxY: 400 }, 0);
  assert.equal(camera.zoom, 0.5);
  const view = camera.viewRect();
  assert.ok(view.minX <= 0 && view.maxX >= 2000 && view.minY <= 0 && view.maxY >= 400);
});

test('segment distance and rotated hit tests', () => {
  assert.equal(segmentDistance(5, 5, 0, 0, 10, 0), 5);
  assert.equal(segmentDistance(-3, 4, 0, 0, 10, 0), 5);
  const tall = { type: 'rect', x: 0, y: 0, w: 100, h: 10, angle: Math.PI / 2, strokeWidth: 0, fill: '#ff0000', points: [] };
  assert.equal(elementContains(tall, 50, 40, 0), true); // rotated about its centre (50, 5)
  assert.equal(elementContains(tall, 90, 5, 0), false);
});
