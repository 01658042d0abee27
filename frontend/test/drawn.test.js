// Elements drawn or placed in a frame join it (tools/pen.js, tools/text.js with tools/attach.js
// `settle`), as drawn shapes do: otherwise a stroke drawn in a frame would lie free in it, a
// state the other pages repair (tools/framerepair.js) after their standby.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { Board } from '../src/doc/board.js';
import { Scene } from '../src/render/scene.js';
import { createAttachments } from '../src/tools/attach.js';
import { createPenTool } from '../src/tools/pen.js';
import { createTextTool } from '../src/tools/text.js';

function page() {
  const board = new Board(new Y.Doc(), () => 'ann');
  const scene = new Scene(board.elements, () => {});
  const app = {
    board, scene, camera: { zoom: 1 }, style: { stroke: '#000', strokeWidth: 2, opacity: 1, fontSize: 20, align: 'left', stickyFill: '#ff0' },
    onNextFrame: (fn) => fn(), tolerance: () => 4, setTool() {}, setSelection() {}, editText() {},
  };
  app.attach = createAttachments(app);
  const frame = board.create('frame', { x: 0, y: 0, w: 300, h: 300 });
  return { app, board, frame };
}

const frameIds = (board, type) => [...board.elements.values()].filter((m) => m.get('type') === type).map((m) => m.get('frameId') ?? '');

test('a stroke drawn in a frame joins it; one drawn outside stays free', () => {
  const { app, board, frame } = page();
  const pen = createPenTool(app);
  for (const [x0, y0] of [[100, 100], [500, 100]]) {
    board.beginGesture();
    pen.onPointerDown({ x: x0, y: y0 });
    pen.onPointerMove({ samples: [{ x: x0 + 20, y: y0 + 10 }, { x: x0 + 40, y: y0 + 30 }] });
    pen.onPointerUp({ x: x0 + 40, y: y0 + 30 });
    board.endGesture();
  }
  assert.deepEqual(frameIds(board, 'stroke'), [frame, '']);
  board.undo(); // the outside one
  board.undo(); // the inside one, its frame with it
  assert.deepEqual(frameIds(board, 'stroke'), []);
});

test('a text or a sticky note placed in a frame joins it', () => {
  const { app, board, frame } = page();
  for (const [type, x] of [['text', 60], ['sticky', 200]]) { // not on each other: a click there edits
    const tool = createTextTool(app, type);
    tool.onPointerDown({ x, y: 150 });
    tool.onPointerDown({ x: x + 700, y: 700 });
    assert.deepEqual(frameIds(board, type), [frame, '']);
  }
});
