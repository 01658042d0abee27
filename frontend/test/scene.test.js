// The scene (render/scene.js): whoever reads it sees the document as it is now, whether or not
// a frame has refreshed it since the last change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { Scene } from '../src/render/scene.js';

test('a read right after a change, before any frame, sees the change', () => {
  const board = new Board(new Y.Doc(), () => 'ann');
  let marked = 0;
  const scene = new Scene(board.elements, () => { marked++; });
  const a = board.create('rect', { x: 0, y: 0, w: 10, h: 10, groupIds: ['g'] });
  const b = board.create('rect', { x: 20, y: 0, w: 10, h: 10, groupIds: ['g'] });
  assert.deepEqual(scene.ordered.map((el) => [el.id, el.groupIds]), [[a, ['g']], [b, ['g']]]);
  const version = scene.version;

  board.update([[a, { groupIds: [] }], [b, { groupIds: [] }]]); // an ungroup
  assert.ok(scene.dirty && marked > 0); // the frame loop was asked for a frame
  assert.deepEqual(scene.byId.get(a).groupIds, []);
  assert.deepEqual(scene.ordered.map((el) => el.groupIds), [[], []]);
  assert.equal(scene.version, version + 1); // the frame loop sees the change by the version
  assert.equal(scene.refresh(), false); // and finds nothing left to re-read
});
