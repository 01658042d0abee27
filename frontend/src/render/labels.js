/**
 * Labels of shapes and connectors (shared/BOARD.md, "Labels"): where a label sits and how it is
 * painted. A shape's label is wrapped inside the shape and centred on it; a line's or arrow's
 * label sits halfway along its drawn points on a plate of the board background. The text editor
 * uses the same boxes, so typing happens where the label is drawn. Lines break by the bundled
 * font's advances (render/textmetrics.js), exactly where backend/export/svg.py breaks them.
 */
import { FONT_FAMILY, textWidth, wrapLines } from './textmetrics.js';

/** Inset of a shape's label box; on a connector, the padding of the label's plate. */
export const LABEL_PADDING = 8;
const LINE_HEIGHT = 1.25;

/**
 * The box a shape's label wraps in, in the shape's unrotated frame (world units).
 * @param {import('./element.js').El} el
 */
export function labelBox(el) {
  const scale = el.type === 'ellipse' ? Math.SQRT1_2 : el.type === 'diamond' ? 0.5 : 1;
  const w = Math.max(0, el.w * scale - 2 * LABEL_PADDING);
  const h = Math.max(0, el.h * scale - 2 * LABEL_PADDING);
  return { x: el.x + (el.w - w) / 2, y: el.y + (el.h - h) / 2, w, h };
}

/** Whether a label belongs on a connector (at its middle) rather than inside a shape. */
export function isConnector(el) {
  return el.type === 'line' || el.type === 'arrow';
}

/**
 * The point halfway along an element's points (absolute world units).
 * @param {import('./element.js').El} el
 */
export function polylineMiddle(el) {
  const p = el.points;
  let total = 0;
  for (let i = 0; i + 3 < p.length; i += 2) total += Math.hypot(p[i + 2] - p[i], p[i + 3] - p[i + 1]);
  let left = total / 2;
  for (let i = 0; i + 3 < p.length; i += 2) {
    const len = Math.hypot(p[i + 2] - p[i], p[i + 3] - p[i + 1]);
    if (left <= len && len > 0) {
      const k = left / len;
      return { x: el.x + p[i] + (p[i + 2] - p[i]) * k, y: el.y + p[i + 1] + (p[i + 3] - p[i + 1]) * k };
    }
    left -= len;
  }
  return { x: el.x + p[p.length - 2], y: el.y + p[p.length - 1] };
}

/**
 * Paint an element's label (nothing when it has none).
 * @param {CanvasRenderingContext2D} ctx
 * @param {import('./element.js').El} el
 * @param {(color: string) => string} ink
 * @param {string} background the board background as painted (the connector label's plate)
 */
export function drawLabel(ctx, el, ink, background) {
  if (!el.label) return;
  ctx.save();
  ctx.setLineDash([]);
  ctx.font = `${el.fontSize}px ${FONT_FAMILY}`;
  ctx.fontKerning = 'none';
  ctx.textBaseline = 'top';
  const step = el.fontSize * LINE_HEIGHT;
  if (isConnector(el)) {
    const lines = memoLines(el, () => el.label.split('\n'));
    const mid = polylineMiddle(el);
    const width = Math.max(...lines.map((line) => textWidth(line, el.fontSize)));
    const top = mid.y - (lines.length * step) / 2;
    ctx.fillStyle = background;
    ctx.fillRect(mid.x - width / 2 - LABEL_PADDING / 2, top - LABEL_PADDING / 2, width + LABEL_PADDING,
      lines.length * step + LABEL_PADDING);
    ctx.fillStyle = ink(el.stroke);
    ctx.textAlign = 'center';
    lines.forEach((line, i) => ctx.fillText(line, mid.x, top + i * step));
  } else {
    const box = labelBox(el);
    const lines = memoLines(el, () => (box.w > 0 ? wrapLines(el.label, box.w, el.fontSize) : []));
    const top = el.y + el.h / 2 - (lines.length * step) / 2;
    ctx.fillStyle = ink(el.stroke);
    ctx.textAlign = el.align;
    const ax = el.align === 'center' ? box.x + box.w / 2 : el.align === 'right' ? box.x + box.w : box.x;
    lines.forEach((line, i) => ctx.fillText(line, ax, top + i * step));
  }
  ctx.restore();
}

function memoLines(el, build) {
  if (!('labelLines' in el.cache)) el.cache.labelLines = build();
  return el.cache.labelLines;
}
