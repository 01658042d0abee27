/**
 * Rectangle, ellipse, diamond and frame tools: drag out a box (shift: square, alt: from the
 * centre); a plain click places a default-sized shape. The shape is written live while dragging; then the select tool
 * takes over with the new shape selected. With the board's grid on, corners land on it. A new
 * shape joins the frame its centre is in; a new frame adopts the free elements inside it
 * (tools/attach.js).
 */
import { elementDefaults } from '../doc/schema.js';
import { onGrid } from './transform.js';

const DEFAULT_W = 160;
const DEFAULT_H = 100;

/**
 * @param {import('./tool.js').ToolApp} app
 * @param {'rect' | 'ellipse' | 'diamond' | 'frame'} type
 */
export function createShapeTool(app, type) {
  let drag = null;
  const frame = type === 'frame';
  const defaultW = frame ? elementDefaults('frame').w ?? 400 : DEFAULT_W;
  const defaultH = frame ? elementDefaults('frame').h ?? 300 : DEFAULT_H;

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
      const id = app.board.create(type, frame
        ? { x: e.x, y: e.y, w: 0, h: 0, angle: 0 }
        : {
          x: e.x, y: e.y, w: 0, h: 0, angle: 0, stroke: s.stroke, fill: s.fill,
          strokeWidth: s.strokeWidth, opacity: s.opacity,
          ...(s.strokeStyle ? { strokeStyle: s.strokeStyle } : {}),
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
        app.board.update([[drag.id, { x: drag.x0 - defaultW / 2, y: drag.y0 - defaultH / 2, w: defaultW, h: defaultH }]]);
      } else {
        app.board.update([[drag.id, box]]);
      }
      const id = drag.id;
      drag = null;
      if (frame) app.attach?.adopt(id);
      else app.attach?.settle([id], false);
      app.setTool('select');
      app.setSelection([id]);
    },
    onExit() {
      drag = null;
    },
  };
}
