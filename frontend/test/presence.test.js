import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SELECTION_BUDGET_BYTES, selectionWithinBudget } from '../src/presence.js';

test('a selection is published within its byte budget', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => `element-${String(i).padStart(7, '0')}`);
  const kept = selectionWithinBudget(ids);
  assert.ok(kept.length > 200 && kept.length < 1000);
  assert.ok(new TextEncoder().encode(JSON.stringify(kept)).length <= SELECTION_BUDGET_BYTES);
  assert.deepEqual(kept, ids.slice(0, kept.length));
});

test('a small selection is published whole', () => {
  assert.deepEqual(selectionWithinBudget(new Set(['a', 'b'])), ['a', 'b']);
  assert.deepEqual(selectionWithinBudget([]), []);
});
