/** Hand tool: drag to pan the view. */

/** @param {import('./tool.js').ToolApp} app */
export function createHandTool(app) {
  let last = null;
  return {
    name: 'hand',
    cursor: 'grab',
    onPointerDown(e) {
      last = { sx: e.sx, sy: e.sy };
    },
    onPointerMove(e) {
      if (!last) return;
      app.camera.panBy(e.sx - last.sx, e.sy - last.sy);
      last = { sx: e.sx, sy: e.sy };
    },
    onPointerUp() {
      last = null;
    },
    onExit() {
      last = null;
    },
  };
}
