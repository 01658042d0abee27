/**
 * Snapping while moving and resizing: to the edges and centres of the other elements in view
 * (with guides to draw), or, when the board's grid is on, to the grid. Pure arithmetic over
 * boxes; the select tool asks, the overlay draws the guides.
 */
import { boxOf } from '../doc/align.js';
import { inRect } from '../render/element.js';

/** How close (CSS pixels) an edge or centre must come to snap. */
export const SNAP_PX = 8;

/**
 * @typedef {{v: number, from: number, to: number}} SnapLine a line x = v (or y = v) spanning
 *   from..to on the other axis
 * @typedef {{xs: SortedLines, ys: SortedLines}} SnapTargets
 * @typedef {{x1: number, y1: number, x2: number, y2: number}} Guide a segment in world units
 */

/**
 * Edges and centres of the elements visible in `view`, except `exclude`.
 * @param {Array<import('../render/element.js').El>} visible
 * @param {Set<string>} exclude
 * @returns {SnapTargets} lines sorted by `compareLines`
 */
export function snapTargets(visible, exclude) {
  return collectLines(visible, exclude, null);
}

/** The sorted lines of `snapTargets`; each element's own go in `byId` (id -> {xs, ys}) if given. */
function collectLines(visible, exclude, byId) {
  const xs = [];
  const ys = [];
  for (const el of visible) {
    if (!el.known || exclude.has(el.id)) continue;
    const lines = linesOf(el);
    byId?.set(el.id, lines);
    xs.push(lines.xs[0], lines.xs[1], lines.xs[2]);
    ys.push(lines.ys[0], lines.ys[1], lines.ys[2]);
  }
  // Sorted once per drag, so each pointer move is a few binary searches.
  return { xs: new SortedLines(xs.sort(compareLines)), ys: new SortedLines(ys.sort(compareLines)) };
}

/**
 * Snap lines sorted by `compareLines`, held in three typed arrays (v, from, to): putting a line
 * in or taking one out moves the numbers after it, a memory move, not a pass over objects.
 */
export class SortedLines {
  /** @param {SnapLine[]} sorted */
  constructor(sorted) {
    this.length = sorted.length;
    this._alloc(Math.max(16, Math.ceil(sorted.length * 1.25)));
    for (let i = 0; i < sorted.length; i++) this._set(i, sorted[i]);
  }

  /** @returns {SnapLine} the line at index `i` */
  at(i) {
    return { v: this.v[i], from: this.from[i], to: this.to[i] };
  }

  /** @returns {SnapLine[]} all the lines, in order */
  toArray() {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }

  /** The first index whose line is not before `line`. */
  lowerBound(line) {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.v[mid] - line.v || this.from[mid] - line.from || this.to[mid] - line.to) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** @param {SnapLine} line */
  insert(line) {
    if (this.length === this.v.length) {
      const old = [this.v, this.from, this.to];
      this._alloc(this.length * 2);
      [this.v, this.from, this.to].forEach((array, k) => array.set(old[k]));
    }
    const i = this.lowerBound(line);
    for (const array of [this.v, this.from, this.to]) array.copyWithin(i + 1, i, this.length);
    this._set(i, line);
    this.length++;
  }

  /** Take out one line equal to `line`, if there is one. */
  remove(line) {
    const i = this.lowerBound(line);
    if (i >= this.length || this.v[i] !== line.v || this.from[i] !== line.from || this.to[i] !== line.to) return;
    for (const array of [this.v, this.from, this.to]) array.copyWithin(i, i + 1, this.length);
    this.length--;
  }

  _alloc(capacity) {
    this.v = new Float64Array(capacity);
    this.from = new Float64Array(capacity);
    this.to = new Float64Array(capacity);
  }

  _set(i, line) {
    this.v[i] = line.v;
    this.from[i] = line.from;
    this.to[i] = line.to;
  }
}

/**
 * The order of snap lines: by `v`, then `from`, then `to`. A total order on what a line holds,
 * so the sorted lines depend only on which lines there are, not on the order they came in:
 * lines kept up to date one element at a time (`liveTargets`) equal the lines sorted afresh.
 */
export function compareLines(a, b) {
  return a.v - b.v || a.from - b.from || a.to - b.to;
}

/** The three vertical (xs) and three horizontal (ys) snap lines of one element. */
function linesOf(el) {
  const b = boxOf(el);
  const cx = (b.minX + b.maxX) / 2;
  const cy = (b.minY + b.maxY) / 2;
  return {
    xs: [{ v: b.minX, from: b.minY, to: b.maxY }, { v: cx, from: b.minY, to: b.maxY }, { v: b.maxX, from: b.minY, to: b.maxY }],
    ys: [{ v: b.minY, from: b.minX, to: b.maxX }, { v: cy, from: b.minX, to: b.maxX }, { v: b.maxY, from: b.minX, to: b.maxX }],
  };
}

/** Past this many changed elements (or a tenth of the targets) the lines are sorted afresh. */
const INCREMENTAL_MAX = 500;

/**
 * The snap targets of a drag, kept up to date: each call returns `snapTargets` of what is in
 * view now, computing it afresh on the first call (or after the view moved, or many changes)
 * and otherwise replacing only the lines of the elements the scene re-read since the last call.
 * @param {{changeCursor: number, changedSince: (cursor: number) => (Array<Set<string>> | null),
 *   byId: Map<string, import('../render/element.js').El>,
 *   visible: (rect: object) => Array<import('../render/element.js').El>}} scene render/scene.js
 * @param {() => {minX: number, minY: number, maxX: number, maxY: number}} viewRect
 * @param {Set<string>} exclude never targets (the dragged elements)
 * @returns {() => SnapTargets}
 */
export function liveTargets(scene, viewRect, exclude) {
  let targets = null;
  let view = null;
  let cursor = 0;
  /** id -> its lines in `targets` */
  let lines = new Map();

  function rebuild(rect) {
    view = rect;
    lines = new Map();
    targets = collectLines(scene.visible(rect), exclude, lines);
  }

  /** Replace the lines of `ids`; false when there are too many to do one by one. */
  function update(ids) {
    if (ids.size > Math.max(INCREMENTAL_MAX, targets.xs.length / 30)) return false;
    const byId = scene.byId;
    for (const id of ids) {
      const old = lines.get(id);
      if (old) {
        for (const line of old.xs) targets.xs.remove(line);
        for (const line of old.ys) targets.ys.remove(line);
        lines.delete(id);
      }
      const el = byId.get(id);
      if (!el || !el.known || !inRect(el, view)) continue;
      const own = linesOf(el);
      lines.set(id, own);
      for (const line of own.xs) targets.xs.insert(line);
      for (const line of own.ys) targets.ys.insert(line);
    }
    return true;
  }

  return () => {
    const rect = viewRect();
    const logs = targets && sameRect(rect, view) ? scene.changedSince(cursor) : null;
    const ids = new Set();
    for (const set of logs ?? []) for (const id of set) if (!exclude.has(id)) ids.add(id);
    if (!logs || !update(ids)) rebuild(rect);
    cursor = scene.changeCursor;
    return targets;
  };
}

function sameRect(a, b) {
  return a.minX === b.minX && a.minY === b.minY && a.maxX === b.maxX && a.maxY === b.maxY;
}

/** The target line nearest to any of `values` within `threshold`: {d, line} or null. */
function nearest(values, lines, threshold) {
  let best = null;
  for (const value of values) {
    let lo = 0;
    let hi = lines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lines.v[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    for (const i of [lo - 1, lo]) {
      if (i < 0 || i >= lines.length) continue;
      const d = lines.v[i] - value;
      if (Math.abs(d) <= threshold && (!best || Math.abs(d) < Math.abs(best.d))) best = { d, line: lines.at(i) };
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
