/**
 * Snapping while moving and resizing: to the edges and centres of the other elements in view
 * (with guides to draw), or, when the board's grid is on, to the grid. Pure arithmetic over
 * boxes; the select tool asks, the overlay draws the guides.
 */
import { boxOf } from '../doc/align.js';

/** How close (CSS pixels) an edge or centre must come to snap. */
export const SNAP_PX = 8;

/**
 * @typedef {{v: number, from: number, to: number}} SnapLine a line x = v (or y = v) spanning
 *   from..to on the other axis
 * @typedef {{xs: SnapLine[], ys: SnapLine[]}} SnapTargets
 * @typedef {{x1: number, y1: number, x2: number, y2: number}} Guide a segment in world units
 */

/**
 * Edges and centres of the elements visible in `view`, except `exclude`.
 * @param {Array<import('../render/element.js').El>} visible
 * @param {Set<string>} exclude
 * @returns {SnapTargets} lines sorted by `v`
 */
export function snapTargets(visible, exclude) {
  const xs = [];
  const ys = [];
  for (const el of visible) {
    if (!el.known || exclude.has(el.id)) continue;
    const b = boxOf(el);
    const cx = (b.minX + b.maxX) / 2;
    const cy = (b.minY + b.maxY) / 2;
    xs.push({ v: b.minX, from: b.minY, to: b.maxY }, { v: cx, from: b.minY, to: b.maxY }, { v: b.maxX, from: b.minY, to: b.maxY });
    ys.push({ v: b.minY, from: b.minX, to: b.maxX }, { v: cy, from: b.minX, to: b.maxX }, { v: b.maxY, from: b.minX, to: b.maxX });
  }
  // Sorted once per drag, so each pointer move is a few binary searches.
  xs.sort((a, b) => a.v - b.v);
  ys.sort((a, b) => a.v - b.v);
  return { xs, ys };
}

/** The target line nearest to any of `values` within `threshold`: {d, line} or null. */
function nearest(values, lines, threshold) {
  let best = null;
  for (const value of values) {
    let lo = 0;
    let hi = lines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lines[mid].v < value) lo = mid + 1;
      else hi = mid;
    }
    for (const line of [lines[lo - 1], lines[lo]]) {
      if (!line) continue;
      const d = line.v - value;
      if (Math.abs(d) <= threshold && (!best || Math.abs(d) < Math.abs(best.d))) best = { d, line };
    }
  }
  return best;
}

/**
 * Snap a moving box (its edges and centre) to the targets.
 * @param {{minX: number, minY: number, maxX: number, maxY: number}} box where it would be
 * @param {SnapTargets} targets
 * @param {number} threshold world units
 * @returns {{dx: number, dy: number, guides: Guide[]}} correction to add, and guides
 */
export function snapBox(box, targets, threshold) {
  const bx = nearest([box.minX, (box.minX + box.maxX) / 2, box.maxX], targets.xs, threshold);
  const by = nearest([box.minY, (box.minY + box.maxY) / 2, box.maxY], targets.ys, threshold);
  const dx = bx ? bx.d : 0;
  const dy = by ? by.d : 0;
  const guides = [];
  if (bx) guides.push(verticalGuide(bx.line, box.minY + dy, box.maxY + dy));
  if (by) guides.push(horizontalGuide(by.line, box.minX + dx, box.maxX + dx));
  return { dx, dy, guides };
}

/**
 * Snap a dragged point (a resize handle) on the axes it moves.
 * @param {{x: number, y: number}} p
 * @param {SnapTargets} targets
 * @param {number} threshold world units
 * @param {{x: boolean, y: boolean}} axes
 * @returns {{x: number, y: number, guides: Guide[]}}
 */
export function snapPoint(p, targets, threshold, axes) {
  const bx = axes.x ? nearest([p.x], targets.xs, threshold) : null;
  const by = axes.y ? nearest([p.y], targets.ys, threshold) : null;
  const x = bx ? p.x + bx.d : p.x;
  const y = by ? p.y + by.d : p.y;
  const guides = [];
  if (bx) guides.push(verticalGuide(bx.line, y, y));
  if (by) guides.push(horizontalGuide(by.line, x, x));
  return { x, y, guides };
}

/** The correction that puts a moving box's top-left corner on the grid. */
export function gridSnapBox(box, size) {
  return { dx: Math.round(box.minX / size) * size - box.minX, dy: Math.round(box.minY / size) * size - box.minY };
}

/** A dragged point on the grid, on the axes it moves. */
export function gridSnapPoint(p, size, axes) {
  return { x: axes.x ? Math.round(p.x / size) * size : p.x, y: axes.y ? Math.round(p.y / size) * size : p.y };
}

function verticalGuide(line, from, to) {
  return { x1: line.v, y1: Math.min(line.from, from), x2: line.v, y2: Math.max(line.to, to) };
}

function horizontalGuide(line, from, to) {
  return { x1: Math.min(line.from, from), y1: line.v, x2: Math.max(line.to, to), y2: line.v };
}
