// Label and sticky-note line breaks (render/textmetrics.js) against the shared fixtures that the
// Python exporter (backend/export/text.py, tests/test_text_wrapping.py) also passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fixtures from '../../shared/fixtures/wrapping.json' with { type: 'json' };
import metrics from '../../shared/font-metrics.json' with { type: 'json' };
import { textUnits, textWidth, wrapLines } from '../src/render/textmetrics.js';

for (const c of fixtures.cases) {
  test(`wrapping fixture: ${c.name}`, () => {
    assert.deepEqual(wrapLines(c.text, c.width, c.fontSize), c.lines);
  });
}

test('widths are the font advances summed, then scaled once', () => {
  assert.equal(metrics.unitsPerEm, 2048);
  assert.equal(textUnits('ab cd'), 5632); // 1255 + 1300 + 651 + 1126 + 1300 (DejaVu Sans)
  assert.equal(textWidth('ab cd', 20), 55);
  assert.equal(textUnits('\u{1F600}'), textUnits('\u{1F600}x') - textUnits('x')); // one code point
  assert.equal(textUnits('\u6f22'), metrics.fallback); // not in the font: one em
});
