/**
 * Pen tool: freehand strokes streamed live. Points are buffered and appended to the stroke's
 * Y.Array once per frame, so others watch the stroke grow. A stroke that reaches the per-element
 * points cap continues in a new element. On release the stroke's x, y become its top-left corner,
 * and it joins the frame its centre is in (tools/attach.js `settle`), as a drawn shape does.
 */
import { pointBox } from '../render/element.js';

/** Ignore pointer moves shorter than this on screen (CSS pixels). */
const MIN_STEP_PX = 1.5;

/** @param {import('./tool.js').ToolApp} app */
export function createPenTool(app) {
  /** @type {{id: string, ox: number, oy: number, last: {x: number, y: number}, buffer: number[], ids: string[]} | null} */
  let stroke = null;

  function start(x, y) {
    const s = app.style;
    const id = app.board.create('stroke', {
      x, y, w: 0, h: 0, angle: 0, points: [0, 0], stroke: s.stroke, fill: 'transparent',
      strokeWidth: s.strokeWidth, opacity: s.opacity,
    });
    return id;
  }

  function flush() {
    if (!stroke || stroke.buffer.length === 0) return;
    let numbers = stroke.buffer;
    stroke.buffer = [];
    while (numbers.length > 0) {
      const room = app.board.pointRoom(stroke.id);
      const take = numbers.slice(0, Math.max(0, room - (room % 2)));
      if (take.length > 0) app.board.appendPoints(stroke.id, take, {});
      numbers = numbers.slice(take.length);
      if (numbers.length === 0) break;
      // The element is full: continue from its last point in a new element.
      const lastX = stroke.ox + (take.length ? take[take.length - 2] : stroke.last.x - stroke.ox);
      const lastY = stroke.oy + (take.length ? take[take.length - 1] : stroke.last.y - stroke.oy);
      const rest = [];
      for (let i = 0; i + 1 < numbers.length; i += 2) {
        rest.push(numbers[i] + stroke.ox - lastX, numbers[i + 1] + stroke.oy - lastY);
      }
      stroke.id = start(lastX, lastY);
      stroke.ids.push(stroke.id);
      stroke.ox = lastX;
      stroke.oy = lastY;
      numbers = rest;
    }
  }

  function finish() {
    flush();
    for (const id of stroke.ids) {
      const el = app.scene.byId.get(id);
      const points = app.board.get(id)?.get('points')?.toArray();
      if (!el || !points) continue;
      const b = pointBox(points);
      const shifted = points.map((v, i) => (i % 2 === 0 ? v - b.minX : v - b.minY));
      app.board.setPoints(id, shifted, {
        x: el.x + b.minX, y: el.y + b.minY, w: b.maxX - b.minX, h: b.maxY - b.minY,
      });
    }
    app.attach?.settle(stroke.ids, false); // a stroke drawn in a frame joins it, as a shape does
  }

  return {
    name: 'pen',
    cursor: 'crosshair',
    onPointerDown(e) {
      const id = start(e.x, e.y);
      stroke = { id, ox: e.x, oy: e.y, last: { x: e.x, y: e.y }, buffer: [], ids: [id] };
    },
    onPointerMove(e) {
      if (!stroke) return;
      const minStep = MIN_STEP_PX / app.camera.zoom;
      for (const p of e.samples) {
        if (Math.hypot(p.x - stroke.last.x, p.y - stroke.last.y) < minStep) continue;
        stroke.last = p;
        stroke.buffer.push(round2(p.x - stroke.ox), round2(p.y - stroke.oy));
      }
      if (stroke.buffer.length > 0) app.onNextFrame(flush);
    },
    onPointerUp() {
      if (!stroke) return;
      app.scene.refresh();
      finish();
      stroke = null;
    },
    onExit() {
      if (stroke) finish();
      stroke = null;
    },
  };
}

function round2(v) {
  return Math.round(v * 100) / 100;
}
