/**
 * Eraser: removes every unlocked element the pointer passes over. One drag is one undo step.
 */
import { elementsAt } from '../render/hit.js';

const TRAIL_LENGTH = 12;

/** @param {import('./tool.js').ToolApp} app */
export function createEraserTool(app) {
  let active = false;
  let last = null;

  /** Erase along the path from the previous point through `points` (fast moves skip nothing). */
  function eraseAt(points) {
    const ids = new Set();
    const step = app.tolerance();
    for (const p of points) {
      const from = last ?? p;
      const count = Math.max(1, Math.ceil(Math.hypot(p.x - from.x, p.y - from.y) / step));
      for (let i = 1; i <= count; i++) {
        const x = from.x + ((p.x - from.x) * i) / count;
        const y = from.y + ((p.y - from.y) * i) / count;
        for (const el of elementsAt(app.scene, x, y, step)) {
          if (!el.locked) ids.add(el.id); // a locked element stays until it is unlocked
        }
      }
      last = p;
    }
    if (ids.size > 0) {
      app.board.remove(ids);
      app.scene.refresh();
    }
  }

  function trail(points) {
    app.overlayState.eraserTrail.push(...points);
    app.overlayState.eraserTrail.splice(0, Math.max(0, app.overlayState.eraserTrail.length - TRAIL_LENGTH));
    app.requestOverlay();
  }

  return {
    name: 'eraser',
    cursor: 'cell',
    onPointerDown(e) {
      active = true;
      last = null;
      trail([{ x: e.x, y: e.y }]);
      eraseAt([{ x: e.x, y: e.y }]);
    },
    onPointerMove(e) {
      if (!active) return;
      trail(e.samples);
      eraseAt(e.samples);
    },
    onPointerUp() {
      active = false;
      app.overlayState.eraserTrail.length = 0;
      app.requestOverlay();
    },
    onExit() {
      active = false;
      app.overlayState.eraserTrail.length = 0;
    },
  };
}
