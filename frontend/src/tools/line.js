/**
 * Line and arrow tools: drag from start to end (shift snaps the angle to 15° steps). The element's
 * x, y is the top-left of its two points, which are stored relative to it. An end pressed or
 * released on (or near) a shape binds to it (tools/attach.js); the routing is the style's.
 */

const SNAP = Math.PI / 12;
const MIN_LENGTH_PX = 4;

/**
 * @param {import('./tool.js').ToolApp} app
 * @param {'line' | 'arrow'} type
 */
export function createLineTool(app, type) {
  let drag = null;

  function geometry(e) {
    let ex = e.x;
    let ey = e.y;
    if (e.shift) {
      const len = Math.hypot(ex - drag.x0, ey - drag.y0);
      const angle = Math.round(Math.atan2(ey - drag.y0, ex - drag.x0) / SNAP) * SNAP;
      ex = drag.x0 + len * Math.cos(angle);
      ey = drag.y0 + len * Math.sin(angle);
    }
    const x = Math.min(drag.x0, ex);
    const y = Math.min(drag.y0, ey);
    return {
      points: [drag.x0 - x, drag.y0 - y, ex - x, ey - y],
      box: { x, y, w: Math.abs(ex - drag.x0), h: Math.abs(ey - drag.y0) },
    };
  }

  return {
    name: type,
    cursor: 'crosshair',
    onPointerDown(e) {
      const s = app.style;
      const id = app.board.create(type, {
        x: e.x, y: e.y, w: 0, h: 0, angle: 0, points: [0, 0, 0, 0], stroke: s.stroke,
        fill: 'transparent', strokeWidth: s.strokeWidth, opacity: s.opacity,
        ...(type === 'arrow' ? { arrowStart: s.arrowStart, arrowEnd: s.arrowEnd } : {}),
        ...(s.strokeStyle ? { strokeStyle: s.strokeStyle } : {}),
        ...(s.routing ? { routing: s.routing } : {}),
        ...(app.attach?.bindFields('start', e.x, e.y) ?? {}),
      });
      drag = { id, x0: e.x, y0: e.y };
    },
    onPointerMove(e) {
      if (!drag) return;
      const { points, box } = geometry(e);
      app.board.setPoints(drag.id, points, box);
      app.attach?.hint(box.x + points[2], box.y + points[3], drag.id);
    },
    onPointerUp(e) {
      if (!drag) return;
      const { points, box } = geometry(e);
      const id = drag.id;
      drag = null;
      if (Math.hypot(box.w, box.h) * app.camera.zoom < MIN_LENGTH_PX) {
        app.board.remove([id]);
        return;
      }
      app.board.setPoints(id, points, box);
      app.attach?.dropEnd(id, 'end', box.x + points[2], box.y + points[3]);
      app.attach?.settle([id], false);
      app.setTool('select');
      app.setSelection([id]);
    },
    onExit() {
      drag = null;
      app.attach?.hint(null);
    },
  };
}
