/**
 * Connector routing (shared/BOARD.md, "Connectors"): the points an arrow or line is drawn with,
 * from its stored points, its per-end bindings and its targets' current geometry. A bound end is
 * derived here at draw time, never stored, so two people moving the two targets at once both win.
 * backend/export/routing.py is the same function in Python; both are checked against
 * shared/fixtures/routing.json.
 */

/** Distance between a bound end and its target's outline, in board units. */
export const BIND_GAP = 4;

/** Element types an arrow end can bind to; their outline is their frame unless named here. */
export const BINDABLE_TYPES = new Set(['rect', 'ellipse', 'diamond', 'sticky', 'text', 'image']);

/** How far an elbow may run straight out of a bound side before turning (to go around). */
const ELBOW_STUB = 20;
/** An anchor this close to the centre (normalised, per axis) lets elbow routing pick the side. */
const CENTRE_ZONE = 0.25;
const EPS = 1e-9;

/**
 * @typedef {{type: string, x: number, y: number, w: number, h: number, angle: number}} Target
 * @typedef {{id?: string, x: number, y: number, angle: number, points: number[], routing?: string,
 *   startBindId?: string, startAnchorX?: number, startAnchorY?: number, endBindId?: string,
 *   endAnchorX?: number, endAnchorY?: number}} Connector
 */

/**
 * The drawn points of a connector in world units, or null when its stored points stand as they
 * are (straight, no usable binding).
 * @param {Connector} arrow
 * @param {(id: string) => (Target | null | undefined)} targetOf
 * @returns {Array<[number, number]> | null}
 */
export function routeArrow(arrow, targetOf) {
  const start = bindTarget(arrow, arrow.startBindId, targetOf);
  const end = bindTarget(arrow, arrow.endBindId, targetOf);
  const elbow = arrow.routing === 'elbow';
  if (!start && !end && !elbow) return null;
  const pts = worldPoints(arrow);
  if (pts.length < 2) return null;
  const n = pts.length;
  const aS = start ? anchorPoint(start, arrow.startAnchorX, arrow.startAnchorY) : pts[0];
  const aE = end ? anchorPoint(end, arrow.endAnchorX, arrow.endAnchorY) : pts[n - 1];
  if (!elbow) {
    const out = pts.slice();
    if (start) out[0] = approach(start, n > 2 ? pts[1] : aE, aS);
    if (end) out[n - 1] = approach(end, n > 2 ? pts[n - 2] : aS, aE);
    return out;
  }
  let s = aS;
  let e = aE;
  let hs = null;
  let he = null;
  if (start) {
    hs = sideHeading(start, arrow.startAnchorX, arrow.startAnchorY, aE);
    s = exitPoint(start, aS, hs);
  }
  if (end) {
    he = sideHeading(end, arrow.endAnchorX, arrow.endAnchorY, aS);
    e = exitPoint(end, aE, he);
  }
  if (!hs) hs = axisOf(e[0] - s[0], e[1] - s[1]);
  if (!he) he = axisOf(s[0] - e[0], s[1] - e[1]);
  return elbowRoute(s, hs, e, he, start, end);
}

/** Whether an element type can be an arrow end's target. */
export function isBindable(type) {
  return BINDABLE_TYPES.has(type);
}

/**
 * Where on `target` a world point lies, normalised in its unrotated frame (clamped 0..1).
 * @param {Target} target
 * @returns {{x: number, y: number}}
 */
export function anchorFor(target, px, py) {
  const [lx, ly] = toLocal(target, px, py);
  const w = target.w;
  const h = target.h;
  return {
    x: w > EPS ? clamp01(lx / w + 0.5) : 0.5,
    y: h > EPS ? clamp01(ly / h + 0.5) : 0.5,
  };
}

/**
 * Distance from a world point to the target's outline region (0 inside), in world units.
 * @param {Target} target
 */
export function distanceToTarget(target, px, py) {
  const [lx, ly] = toLocal(target, px, py);
  if (insideLocal(target, lx, ly)) return 0;
  const dx = Math.max(0, Math.abs(lx) - target.w / 2);
  const dy = Math.max(0, Math.abs(ly) - target.h / 2);
  return Math.hypot(dx, dy);
}

function bindTarget(arrow, id, targetOf) {
  if (typeof id !== 'string' || id === '' || id === arrow.id) return null;
  const target = targetOf(id);
  if (!target || !isBindable(target.type)) return null;
  if (![target.x, target.y, target.w, target.h].every(Number.isFinite)) return null;
  return target;
}

/** The stored points in world units (the arrow's own rotation applied about its points' box). */
function worldPoints(arrow) {
  const p = arrow.points;
  const out = [];
  for (let i = 0; i + 1 < p.length; i += 2) out.push([arrow.x + p[i], arrow.y + p[i + 1]]);
  const angle = Number.isFinite(arrow.angle) ? arrow.angle : 0;
  if (!angle || out.length === 0) return out;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of out) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  return out.map(([x, y]) => rotate(x, y, cx, cy, angle));
}

function anchorPoint(target, ax, ay) {
  const u = Number.isFinite(ax) ? clamp01(ax) : 0.5;
  const v = Number.isFinite(ay) ? clamp01(ay) : 0.5;
  const cx = target.x + target.w / 2;
  const cy = target.y + target.h / 2;
  return rotate(target.x + u * target.w, target.y + v * target.h, cx, cy, target.angle || 0);
}

/** Where the segment from `from` to `anchor` first meets the outline, BIND_GAP short of it. */
function approach(target, from, anchor) {
  const dx = anchor[0] - from[0];
  const dy = anchor[1] - from[1];
  const len = Math.hypot(dx, dy);
  if (len < EPS) return anchor;
  const [lx, ly] = toLocal(target, from[0], from[1]);
  if (insideLocal(target, lx, ly)) return anchor;
  let t = Infinity;
  for (const hit of outlineHits(target, from, [dx, dy])) {
    if (hit >= -EPS && hit <= 1 + EPS && hit < t) t = hit;
  }
  if (t === Infinity) return anchor;
  const k = Math.max(0, t - BIND_GAP / len);
  return [from[0] + dx * k, from[1] + dy * k];
}

/** Where a ray from `anchor` along the unit `heading` leaves the outline, plus BIND_GAP. */
function exitPoint(target, anchor, heading) {
  let t = 0;
  for (const hit of outlineHits(target, anchor, heading)) if (hit > t) t = hit;
  return [anchor[0] + heading[0] * (t + BIND_GAP), anchor[1] + heading[1] * (t + BIND_GAP)];
}

/** The axis direction an elbow leaves a target by: the anchor's side, or toward `toward`. */
function sideHeading(target, ax, ay, toward) {
  const dx = (Number.isFinite(ax) ? clamp01(ax) : 0.5) - 0.5;
  const dy = (Number.isFinite(ay) ? clamp01(ay) : 0.5) - 0.5;
  if (Math.abs(dx) < CENTRE_ZONE && Math.abs(dy) < CENTRE_ZONE) {
    const cx = target.x + target.w / 2;
    const cy = target.y + target.h / 2;
    return axisOf(toward[0] - cx, toward[1] - cy);
  }
  const local = Math.abs(dx) >= Math.abs(dy) ? [Math.sign(dx), 0] : [0, Math.sign(dy)];
  const world = rotate(local[0], local[1], 0, 0, target.angle || 0);
  return axisOf(world[0], world[1]);
}

/** The unit axis vector nearest to (dx, dy); ties and zero go horizontal. */
function axisOf(dx, dy) {
  if (Math.abs(dx) >= Math.abs(dy)) return [dx < 0 ? -1 : 1, 0];
  return [0, dy < 0 ? -1 : 1];
}

/**
 * The elbow from exit point `s` (heading `hs`) to `e` (`he`): the plain elbow when it crosses
 * no bound target, else the path that crosses them least, then has the fewest points, then is
 * shortest, of: the plain elbow, and the ones that first run ELBOW_STUB straight out of each
 * bound side, turning at a corner, halfway, or around both targets (first found wins a tie).
 */
function elbowRoute(s, hs, e, he, start, end) {
  const targets = [start, end].filter(Boolean);
  let best = simplify(elbowPath(s, hs, e, he));
  if (targets.length === 0) return best;
  const boxes = targets.map(bounds);
  let bestScore = elbowScore(best, targets, boxes);
  if (bestScore[0] === 0) return best; // the plain elbow crosses nothing: it stays
  const s1 = start ? [s[0] + hs[0] * ELBOW_STUB, s[1] + hs[1] * ELBOW_STUB] : s;
  const e1 = end ? [e[0] + he[0] * ELBOW_STUB, e[1] + he[1] * ELBOW_STUB] : e;
  const xs = [(s1[0] + e1[0]) / 2, Math.min(...boxes.map((b) => b[0])) - ELBOW_STUB,
    Math.max(...boxes.map((b) => b[2])) + ELBOW_STUB];
  const ys = [(s1[1] + e1[1]) / 2, Math.min(...boxes.map((b) => b[1])) - ELBOW_STUB,
    Math.max(...boxes.map((b) => b[3])) + ELBOW_STUB];
  const middles = [[s1, [e1[0], s1[1]], e1], [s1, [s1[0], e1[1]], e1]];
  for (const x of xs) middles.push([s1, [x, s1[1]], [x, e1[1]], e1]);
  for (const y of ys) middles.push([s1, [s1[0], y], [e1[0], y], e1]);
  for (const middle of middles) {
    const path = simplify([s, ...middle, e]);
    const score = elbowScore(path, targets, boxes);
    if (lessScore(score, bestScore)) {
      best = path;
      bestScore = score;
    }
  }
  return best;
}

/** [segments crossing a target, points, length]: lower is better. */
function elbowScore(path, targets, boxes) {
  let crossings = 0;
  let length = 0;
  for (let i = 0; i + 1 < path.length; i++) {
    const a = path[i];
    const b = path[i + 1];
    targets.forEach((t, j) => {
      if (crosses(t, boxes[j], a, b)) crossings += 1;
    });
    length += Math.abs(b[0] - a[0]) + Math.abs(b[1] - a[1]);
  }
  return [crossings, path.length, length];
}

function lessScore(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/**
 * Whether the segment a-b runs through the target's inside (touching it does not count); `box`
 * is the target's `bounds`, to skip segments that cannot reach it.
 */
function crosses(target, box, a, b) {
  if (Math.max(a[0], b[0]) <= box[0] || Math.min(a[0], b[0]) >= box[2]
    || Math.max(a[1], b[1]) <= box[1] || Math.min(a[1], b[1]) >= box[3]) return false;
  const d = [b[0] - a[0], b[1] - a[1]];
  if (Math.abs(d[0]) < EPS && Math.abs(d[1]) < EPS) return false;
  const cuts = [0, 1, ...outlineHits(target, a, d).filter((t) => t > 0 && t < 1)].sort((p, q) => p - q);
  for (let i = 0; i + 1 < cuts.length; i++) {
    if (cuts[i + 1] - cuts[i] > EPS) {
      const k = (cuts[i] + cuts[i + 1]) / 2;
      const [lx, ly] = toLocal(target, a[0] + d[0] * k, a[1] + d[1] * k);
      if (insideLocal(target, lx, ly)) return true;
    }
  }
  return false;
}

/** The axis-aligned box of the target's (rotated) frame: [min x, min y, max x, max y]. */
function bounds(target) {
  if (!target.angle) return [target.x, target.y, target.x + target.w, target.y + target.h];
  const cx = target.x + target.w / 2;
  const cy = target.y + target.h / 2;
  const corners = [];
  for (const x of [target.x, target.x + target.w]) {
    for (const y of [target.y, target.y + target.h]) corners.push(rotate(x, y, cx, cy, target.angle || 0));
  }
  return [Math.min(...corners.map((c) => c[0])), Math.min(...corners.map((c) => c[1])),
    Math.max(...corners.map((c) => c[0])), Math.max(...corners.map((c) => c[1]))];
}

function elbowPath(s, hs, e, he) {
  const sHorizontal = hs[0] !== 0;
  const eHorizontal = he[0] !== 0;
  if (sHorizontal && eHorizontal) {
    const mx = (s[0] + e[0]) / 2;
    return [s, [mx, s[1]], [mx, e[1]], e];
  }
  if (!sHorizontal && !eHorizontal) {
    const my = (s[1] + e[1]) / 2;
    return [s, [s[0], my], [e[0], my], e];
  }
  return sHorizontal ? [s, [e[0], s[1]], e] : [s, [s[0], e[1]], e];
}

/** Drop repeated points and middle points on a straight run. */
function simplify(pts) {
  const out = [];
  for (const p of pts) {
    const last = out[out.length - 1];
    if (last && Math.abs(last[0] - p[0]) < 1e-6 && Math.abs(last[1] - p[1]) < 1e-6) continue;
    if (out.length >= 2) {
      const a = out[out.length - 2];
      const cross = (last[0] - a[0]) * (p[1] - a[1]) - (last[1] - a[1]) * (p[0] - a[0]);
      if (Math.abs(cross) < 1e-6) out.pop();
    }
    out.push(p);
  }
  return out;
}

/** Parameters t where the line p + t·d crosses the target's outline. */
function outlineHits(target, p, d) {
  const [px, py] = toLocal(target, p[0], p[1]);
  const [dx, dy] = rotate(d[0], d[1], 0, 0, -(target.angle || 0));
  const hw = target.w / 2;
  const hh = target.h / 2;
  const hits = [];
  if (target.type === 'ellipse' && hw > EPS && hh > EPS) {
    const a = (dx * dx) / (hw * hw) + (dy * dy) / (hh * hh);
    const b = 2 * ((px * dx) / (hw * hw) + (py * dy) / (hh * hh));
    const c = (px * px) / (hw * hw) + (py * py) / (hh * hh) - 1;
    const disc = b * b - 4 * a * c;
    if (a > EPS && disc >= 0) {
      const root = Math.sqrt(disc);
      hits.push((-b - root) / (2 * a), (-b + root) / (2 * a));
    }
    return hits;
  }
  const corners = target.type === 'diamond'
    ? [[hw, 0], [0, hh], [-hw, 0], [0, -hh]]
    : [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]];
  for (let i = 0; i < 4; i++) {
    const [ax, ay] = corners[i];
    const [bx, by] = corners[(i + 1) % 4];
    const ex = bx - ax;
    const ey = by - ay;
    const denom = dx * ey - dy * ex;
    if (Math.abs(denom) < EPS) continue;
    const t = ((ax - px) * ey - (ay - py) * ex) / denom;
    const u = ((ax - px) * dy - (ay - py) * dx) / denom;
    if (u >= -EPS && u <= 1 + EPS) hits.push(t);
  }
  return hits;
}

/** A world point in the target's frame: centred on it, its rotation undone. */
function toLocal(target, px, py) {
  const cx = target.x + target.w / 2;
  const cy = target.y + target.h / 2;
  return rotate(px - cx, py - cy, 0, 0, -(target.angle || 0));
}

function insideLocal(target, lx, ly) {
  const hw = target.w / 2;
  const hh = target.h / 2;
  if (hw <= EPS || hh <= EPS) return false;
  if (target.type === 'ellipse') return (lx * lx) / (hw * hw) + (ly * ly) / (hh * hh) < 1 - 1e-9;
  if (target.type === 'diamond') return Math.abs(lx) / hw + Math.abs(ly) / hh < 1 - 1e-9;
  return Math.abs(lx) < hw && Math.abs(ly) < hh;
}

function rotate(x, y, cx, cy, angle) {
  if (!angle) return [x, y];
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return [cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos];
}

function clamp01(v) {
  return Math.min(1, Math.max(0, v));
}
