/**
 * Text and sticky-note tools: a click places an element and opens the text editor on it.
 * Clicking an existing text or note edits it instead. Placed in a frame, it joins the frame.
 */
import { topElementAt } from '../render/hit.js';
import { elementDefaults } from '../doc/schema.js';

const STICKY_SIZE = elementDefaults('sticky').w || 200;

/**
 * @param {import('./tool.js').ToolApp} app
 * @param {'text' | 'sticky'} type
 */
export function createTextTool(app, type) {
  return {
    name: type,
    cursor: type === 'text' ? 'text' : 'copy',
    onPointerDown(e) {
      const hit = topElementAt(app.scene, e.x, e.y, app.tolerance());
      app.setTool('select');
      if (hit && (hit.type === 'text' || hit.type === 'sticky')) {
        app.setSelection([hit.id]);
        app.editText(hit.id);
        return;
      }
      const s = app.style;
      const fields = type === 'text'
        ? { x: e.x, y: e.y - s.fontSize * 0.6, w: 8, h: s.fontSize * 1.25, stroke: s.stroke, fill: 'transparent' }
        : { x: e.x - STICKY_SIZE / 2, y: e.y - STICKY_SIZE / 2, w: STICKY_SIZE, h: STICKY_SIZE,
          stroke: '#1e1e1e', fill: s.stickyFill };
      const id = app.board.create(type, {
        ...fields, angle: 0, text: '', fontSize: s.fontSize, align: s.align,
        strokeWidth: s.strokeWidth, opacity: s.opacity,
      });
      app.attach?.settle([id], false); // placed in a frame: joins it, as a shape does
      app.setSelection([id]);
      app.editText(id, { removeIfEmpty: true });
    },
  };
}
