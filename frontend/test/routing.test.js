// Connector routing (render/routing.js) against the shared fixtures the Python exporter also uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fixtures from '../../shared/fixtures/routing.json' with { type: 'json' };
import { routeArrow, anchorFor, distanceToTarget, BIND_GAP } from '../src/render/routing.js';

function drawn(arrow, targets) {
  const routed = routeArrow(arrow, (id) => targets[id]);
  if (routed) return routed;
  const p = arrow.points;
  const out = [];
  for (let i = 0; i + 1 < p.length; i += 2) out.push([arrow.x + p[i], arrow.y + p[i + 1]]);
  return out;
}

test('the bind gap is the one the fixtures were derived with', () => {
  assert.equal(BIND_GAP, fixtures.bindGap);
});

for (const c of fixtures.cases) {
  test(`routing fixture: ${c.name}`, () => {
    const got = drawn(c.arrow, c.targets);
    assert.equal(got.length, c.expected.length, JSON.stringify(got));
    got.forEach(([x, y], i) => {
      const [ex, ey] = c.expected[i];
      assert.ok(Math.abs(x - ex) <= fixtures.tolerance && Math.abs(y - ey) <= fixtures.tolerance,
        `point ${i}: got ${JSON.stringify(got)}`);
    });
  });
}

test('anchors are normalised in the target frame and rotation is undone', () => {
  const box = { type: 'rect', x: 0, y: 0, w: 200, h: 100, angle: Math.PI / 2 };
  const a = anchorFor(box, 100, 150); // the upright box's bottom middle = its local right middle
  assert.ok(Math.abs(a.x - 1) < 1e-9 && Math.abs(a.y - 0.5) < 1e-9);
  assert.deepEqual(anchorFor(box, 5000, 5000), { x: 1, y: 0 }); // clamped
  assert.equal(distanceToTarget(box, 100, 50), 0);
  assert.ok(Math.abs(distanceToTarget(box, 160, 50) - 10) < 1e-9);
});
