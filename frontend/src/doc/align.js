/**
 * Align and distribute: pure functions from units (groups or single elements, each with its
 * box) to move patches. Boxes are the axis-aligned boxes of the elements' rotated frames, the
 * way Excalidraw and tldraw align what one sees.
 */
import { cornersOf } from '../render/handles.js';
import { frameOf } from '../render/element.js';

/** The names of the align and distribute actions, with their labels. */
export const ALIGN_ACTIONS = [
  ['align-left', 'Align left'], ['align-center', 'Align centre'], ['align-right', 'Align right'],
  ['align-top', 'Align top'], ['align-middle', 'Align middle'], ['align-bottom', 'Align bottom'],
  ['distribute-h', 'Distribute horizontally'], ['distribute-v', 'Distribute vertically'],
];

/**
 * The axis-aligned box of an element's rotated frame (no stroke padding).
 * @param {import('../render/element.js').El} el
 * @returns {{minX: number, minY: number, maxX: number, maxY: number}}
 */
export function boxOf(el) {
  if (!el.angle) {
    const f = frameOf(el);
    return { minX: f.x, minY: f.y, maxX: f.x + f.w, maxY: f.y + f.h };
  }
  const pts = cornersOf(el);
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  return { minX: Math.min(...xs), minY: Math.min(...ys), maxX: Math.max(...xs), maxY: Math.max(...ys) };
}

/** The union of boxes, or null for none. */
export function unionBox(boxes) {
  let out = null;
  for (const b of boxes) {
    out = out ? {
      minX: Math.min(out.minX, b.minX), minY: Math.min(out.minY, b.minY),
      maxX: Math.max(out.maxX, b.maxX), maxY: Math.max(out.maxY, b.maxY),
    } : { ...b };
  }
  return out;
}

/**
 * Move patches aligning or distributing `units`.
 * @param {Array<Array<import('../render/element.js').El>>} units each unit moves as one
 * @param {string} action one of ALIGN_ACTIONS' names
 * @returns {Array<[string, {x: number, y: number}]>} only elements that move
 */
export function arrangePatches(units, action) {
  const boxed = units.map((els) => ({ els, box: unionBox(els.map(boxOf)) })).filter((u) => u.box);
  if (boxed.length < 2) return [];
  const all = unionBox(boxed.map((u) => u.box));
  const shifts = new Map();
  const axis = action.endsWith('-h') || ['align-left', 'align-center', 'align-right'].includes(action) ? 'x' : 'y';
  const [min, max] = axis === 'x' ? ['minX', 'maxX'] : ['minY', 'maxY'];
  if (action.startsWith('align-')) {
    const where = { 'align-left': 0, 'align-top': 0, 'align-center': 0.5, 'align-middle': 0.5, 'align-right': 1, 'align-bottom': 1 }[action];
    for (const u of boxed) {
      const target = all[min] + where * (all[max] - all[min]);
      const current = u.box[min] + where * (u.box[max] - u.box[min]);
      shifts.set(u, target - current);
    }
  } else {
    if (boxed.length < 3) return [];
    const sorted = boxed.slice().sort((a, b) => (a.box[min] + a.box[max]) - (b.box[min] + b.box[max]));
    const sizes = sorted.reduce((sum, u) => sum + u.box[max] - u.box[min], 0);
    const gap = (all[max] - all[min] - sizes) / (sorted.length - 1);
    let at = all[min];
    for (const u of sorted) {
      shifts.set(u, at - u.box[min]);
      at += u.box[max] - u.box[min] + gap;
    }
  }
  const out = [];
  for (const [u, d] of shifts) {
    if (Math.abs(d) < 1e-9) continue;
    for (const el of u.els) out.push([el.id, axis === 'x' ? { x: el.x + d, y: el.y } : { x: el.x, y: el.y + d }]);
  }
  return out;
}
