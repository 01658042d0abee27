/**
 * Eraser: removes every element the pointer passes over. One drag is one undo step.
 */
import { elementsAt } from '../render/hit.js';

const TRAIL_LENGTH = 12;

/** @param {import('./tool.js').ToolApp} app */
export function createEraserTool(app) {
  let active = false;

  function eraseAt(points) {
    const ids = new Set();
    for (const p of points) {
      for (const el of elementsAt(app.scene, p.x, p.y, app.tolerance())) ids.add(el.id);
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
      app.board.stopCapturing();
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
      app.board.stopCapturing();
    },
    onExit() {
      active = false;
      app.overlayState.eraserTrail.length = 0;
    },
  };
}
