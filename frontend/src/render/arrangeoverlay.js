/**
 * The arrange layer of the overlay, painted after the selection: handles on a multi-selection's
 * box, snapping guides, lock badges, and the outline of the entered group.
 */
import { boxOf, unionBox } from '../doc/align.js';
import { HANDLE_PX, ROTATE_OFFSET_PX } from './handles.js';

const ACCENT = '#4f6df5';
const GUIDE = '#e64980';
const RESIZE = { nw: [0, 0], n: [0.5, 0], ne: [1, 0], e: [1, 0.5], se: [1, 1], s: [0.5, 1], sw: [0, 1], w: [0, 0.5] };

/**
 * The box a multi-selection is transformed by: the union of its elements' boxes, or null when
 * it has fewer than two elements or holds a locked one (locked elements do not transform).
 * @param {import('./scene.js').Scene} scene
 * @param {Set<string>} selection
 */
export function multiBox(scene, selection) {
  if (selection.size < 2) return null;
  const els = [...selection].map((id) => scene.byId.get(id)).filter(Boolean);
  if (els.length < 2 || els.some((el) => el.locked)) return null;
  return unionBox(els.map(boxOf));
}

/**
 * Handles of a multi-selection box in world units: eight resize handles, then `rotate`.
 * @param {{minX: number, minY: number, maxX: number, maxY: number}} box
 * @param {number} zoom
 * @returns {Array<{name: string, x: number, y: number}>}
 */
export function multiHandles(box, zoom) {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const out = Object.entries(RESIZE).map(([name, [u, v]]) => ({ name, x: box.minX + u * w, y: box.minY + v * h }));
  out.push({ name: 'rotate', x: box.minX + w / 2, y: box.minY - ROTATE_OFFSET_PX / zoom });
  return out;
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {{scene: import('./scene.js').Scene, camera: import('../view/camera.js').Camera,
 *          dpr: number, selection: Set<string>, guides: Array<{x1: number, y1: number, x2: number, y2: number}>,
 *          editing: string | null, showHandles: boolean}} input
 */
export function paintArrange(ctx, { scene, camera, dpr, selection, guides, editing, showHandles }) {
  ctx.save();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  if (editing) {
    const box = unionBox(scene.ordered.filter((el) => el.groupIds.includes(editing)).map(boxOf));
    if (box) strokeBox(ctx, camera, box, 'rgba(120,120,140,0.8)', [2, 3], 6);
  }
  const box = showHandles ? multiBox(scene, selection) : null;
  if (box) paintHandles(ctx, camera, multiHandles(box, camera.zoom));
  for (const id of selection) {
    const el = scene.byId.get(id);
    if (el?.locked) paintLock(ctx, camera.toScreen(boxOf(el).maxX, boxOf(el).minY));
  }
  ctx.strokeStyle = GUIDE;
  ctx.lineWidth = 1;
  ctx.setLineDash([]);
  for (const g of guides) {
    const a = camera.toScreen(g.x1, g.y1);
    const b = camera.toScreen(g.x2, g.y2);
    // On the pixel grid, so a one-pixel guide is crisp.
    const crisp = (v) => Math.round(v) + 0.5;
    ctx.beginPath();
    ctx.moveTo(g.x1 === g.x2 ? crisp(a.x) : a.x, g.y1 === g.y2 ? crisp(a.y) : a.y);
    ctx.lineTo(g.x1 === g.x2 ? crisp(b.x) : b.x, g.y1 === g.y2 ? crisp(b.y) : b.y);
    ctx.stroke();
  }
  ctx.restore();
}

function strokeBox(ctx, camera, box, color, dash, pad) {
  const a = camera.toScreen(box.minX, box.minY);
  const b = camera.toScreen(box.maxX, box.maxY);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.setLineDash(dash);
  ctx.strokeRect(a.x - pad, a.y - pad, b.x - a.x + 2 * pad, b.y - a.y + 2 * pad);
}

function paintHandles(ctx, camera, handles) {
  const screen = handles.map((hd) => ({ name: hd.name, ...camera.toScreen(hd.x, hd.y) }));
  const rotate = screen.find((s) => s.name === 'rotate');
  const top = screen.find((s) => s.name === 'n');
  ctx.strokeStyle = ACCENT;
  ctx.lineWidth = 1;
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(top.x, top.y);
  ctx.lineTo(rotate.x, rotate.y);
  ctx.stroke();
  ctx.fillStyle = '#ffffff';
  for (const s of screen) {
    ctx.beginPath();
    if (s.name === 'rotate') ctx.arc(s.x, s.y, HANDLE_PX / 2 + 1, 0, Math.PI * 2);
    else ctx.rect(s.x - HANDLE_PX / 2, s.y - HANDLE_PX / 2, HANDLE_PX, HANDLE_PX);
    ctx.fill();
    ctx.stroke();
  }
}

/** A small padlock at a screen point (the top-right corner of a locked element). */
function paintLock(ctx, s) {
  const x = s.x + 4;
  const y = s.y - 18;
  ctx.setLineDash([]);
  ctx.fillStyle = ACCENT;
  ctx.beginPath();
  ctx.roundRect(x, y, 16, 16, 4);
  ctx.fill();
  ctx.strokeStyle = '#ffffff';
  ctx.fillStyle = '#ffffff';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(x + 8, y + 7, 2.6, Math.PI, 0);
  ctx.stroke();
  ctx.fillRect(x + 4, y + 7, 8, 6);
}
