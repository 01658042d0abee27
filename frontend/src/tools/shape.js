/**
 * Rectangle and ellipse tools: drag out a box (shift: square, alt: from the centre); a plain click
 * places a default-sized shape. The shape is written live while dragging; then the select tool
 * takes over with the new shape selected. With the board's grid on, corners land on it.
 */
import { onGrid } from './transform.js';

const DEFAULT_W = 160;
const DEFAULT_H = 100;

/**
 * @param {import('./tool.js').ToolApp} app
 * @param {'rect' | 'ellipse'} type
 */
export function createShapeTool(app, type) {
  let drag = null;

  function boxFor(e) {
    let w = e.x - drag.x0;
    let h = e.y - drag.y0;
    if (e.shift) {
      const side = Math.max(Math.abs(w), Math.abs(h));
      w = Math.sign(w || 1) * side;
      h = Math.sign(h || 1) * side;
    }
    let x = drag.x0;
    let y = drag.y0;
    if (e.alt) {
      x -= w;
      y -= h;
      w *= 2;
      h *= 2;
    }
    return { x: Math.min(x, x + w), y: Math.min(y, y + h), w: Math.abs(w), h: Math.abs(h) };
  }

  return {
    name: type,
    cursor: 'crosshair',
    onPointerDown(event) {
      const e = onGrid(app, event);
      const s = app.style;
      const id = app.board.create(type, {
        x: e.x, y: e.y, w: 0, h: 0, angle: 0, stroke: s.stroke, fill: s.fill,
        strokeWidth: s.strokeWidth, opacity: s.opacity,
      });
      drag = { id, x0: e.x, y0: e.y };
    },
    onPointerMove(e) {
      if (!drag) return;
      app.board.update([[drag.id, boxFor(onGrid(app, e))]]);
    },
    onPointerUp(e) {
      if (!drag) return;
      const box = boxFor(onGrid(app, e));
      if (box.w * app.camera.zoom < 4 && box.h * app.camera.zoom < 4) {
        app.board.update([[drag.id, { x: drag.x0 - DEFAULT_W / 2, y: drag.y0 - DEFAULT_H / 2, w: DEFAULT_W, h: DEFAULT_H }]]);
      } else {
        app.board.update([[drag.id, box]]);
      }
      const id = drag.id;
      drag = null;
      app.setTool('select');
      app.setSelection([id]);
    },
    onExit() {
      drag = null;
    },
  };
}
