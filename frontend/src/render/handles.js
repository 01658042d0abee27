/**
 * Resize and rotate handles of a single selected element, in world coordinates (rotation applied).
 * Shared by the overlay painter (draws them) and the select tool (grabs them).
 */
import { frameOf } from './element.js';

/** Handle size on screen, in CSS pixels. */
export const HANDLE_PX = 9;
/** Distance of the rotate handle above the frame, in CSS pixels. */
export const ROTATE_OFFSET_PX = 26;

const RESIZE = { nw: [0, 0], n: [0.5, 0], ne: [1, 0], e: [1, 0.5], se: [1, 1], s: [0.5, 1], sw: [0, 1], w: [0, 0.5] };

/**
 * @param {import('./element.js').El} el
 * @param {number} zoom
 * @returns {Array<{name: string, x: number, y: number}>} resize handles then `rotate`; for a
 *   straight line or arrow its two ends `p0`, `p1`
 */
export function handlesFor(el, zoom) {
  if (isTwoPointLine(el)) return lineEnds(el);
  const f = frameOf(el);
  const cx = f.x + f.w / 2;
  const cy = f.y + f.h / 2;
  const out = [];
  for (const [name, [u, v]] of Object.entries(RESIZE)) {
    out.push({ name, ...rotateAbout(f.x + u * f.w, f.y + v * f.h, cx, cy, el.angle) });
  }
  out.push({ name: 'rotate', ...rotateAbout(cx, f.y - ROTATE_OFFSET_PX / zoom, cx, cy, el.angle) });
  return out;
}

/** Whether an element is a straight line or arrow (or a routed connector), edited by its ends. */
export function isTwoPointLine(el) {
  return (el.type === 'line' || el.type === 'arrow') && (el.points.length === 4 || el.routed);
}

/** The first and last points of a line or arrow in world coordinates, as handles `p0`, `p1`. */
export function lineEnds(el) {
  const f = frameOf(el);
  const cx = f.x + f.w / 2;
  const cy = f.y + f.h / 2;
  const n = el.points.length;
  const [x0, y0, x1, y1] = [el.points[0], el.points[1], el.points[n - 2], el.points[n - 1]];
  return [
    { name: 'p0', ...rotateAbout(el.x + x0, el.y + y0, cx, cy, el.angle) },
    { name: 'p1', ...rotateAbout(el.x + x1, el.y + y1, cx, cy, el.angle) },
  ];
}

/** The four corners of an element's rotated frame, in world coordinates. */
export function cornersOf(el) {
  const f = frameOf(el);
  const cx = f.x + f.w / 2;
  const cy = f.y + f.h / 2;
  return [[f.x, f.y], [f.x + f.w, f.y], [f.x + f.w, f.y + f.h], [f.x, f.y + f.h]].map(
    ([x, y]) => rotateAbout(x, y, cx, cy, el.angle),
  );
}

/** Rotate (x, y) by `angle` radians about (cx, cy). */
export function rotateAbout(x, y, cx, cy, angle) {
  if (!angle) return { x, y };
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return { x: cx + (x - cx) * cos - (y - cy) * sin, y: cy + (x - cx) * sin + (y - cy) * cos };
}

/** Which resize handle a handle name moves: [dx sign, dy sign] of the edges it drags. */
export const HANDLE_EDGES = {
  nw: [-1, -1], n: [0, -1], ne: [1, -1], e: [1, 0], se: [1, 1], s: [0, 1], sw: [-1, 1], w: [-1, 0],
};
