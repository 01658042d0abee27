/**
 * Hit testing against the scene: which element is under a world point, which lie inside a marquee.
 * Works on plain Els in the element's own (unrotated) frame.
 */
import { frameOf, hasPoints } from './element.js';

/**
 * The topmost element under world point (px, py), or null.
 * @param {import('./scene.js').Scene} scene
 * @param {number} px
 * @param {number} py
 * @param {number} tolerance world units of slack (a few screen pixels / zoom)
 */
export function topElementAt(scene, px, py, tolerance) {
  for (let i = scene.ordered.length - 1; i >= 0; i--) {
    const el = scene.ordered[i];
    if (!el.known) continue;
    const b = el.bounds;
    if (px < b.minX - tolerance || px > b.maxX + tolerance) continue;
    if (py < b.minY - tolerance || py > b.maxY + tolerance) continue;
    if (elementContains(el, px, py, tolerance)) return el;
  }
  return null;
}

/** Every element under a world point (the eraser removes them all). */
export function elementsAt(scene, px, py, tolerance) {
  const out = [];
  for (const el of scene.ordered) {
    if (!el.known) continue;
    const b = el.bounds;
    if (px < b.minX - tolerance || px > b.maxX + tolerance) continue;
    if (py < b.minY - tolerance || py > b.maxY + tolerance) continue;
    if (elementContains(el, px, py, tolerance)) out.push(el);
  }
  return out;
}

/** Ids of the elements whose bounds lie wholly inside the world rectangle. */
export function elementsInRect(scene, rect) {
  const out = [];
  for (const el of scene.ordered) {
    const b = el.bounds;
    if (b.minX >= rect.minX && b.maxX <= rect.maxX && b.minY >= rect.minY && b.maxY <= rect.maxY) {
      out.push(el.id);
    }
  }
  return out;
}

/** Whether world point (px, py) touches the element, allowing `tolerance` world units. */
export function elementContains(el, px, py, tolerance) {
  const f = frameOf(el);
  let x = px;
  let y = py;
  if (el.angle) {
    const cx = f.x + f.w / 2;
    const cy = f.y + f.h / 2;
    const cos = Math.cos(-el.angle);
    const sin = Math.sin(-el.angle);
    x = cx + (px - cx) * cos - (py - cy) * sin;
    y = cy + (px - cx) * sin + (py - cy) * cos;
  }
  const reach = tolerance + el.strokeWidth / 2;
  if (hasPoints(el.type)) return nearPolyline(el, x, y, reach);
  const inside = x >= f.x - reach && x <= f.x + f.w + reach && y >= f.y - reach && y <= f.y + f.h + reach;
  if (!inside) return false;
  if ((el.type === 'rect' && el.fill === 'transparent' && !el.label) || el.type === 'frame') {
    return Math.min(x - f.x, f.x + f.w - x, y - f.y, f.y + f.h - y) <= reach;
  }
  if (el.type === 'diamond') {
    const hw = Math.max(f.w / 2, 1e-6);
    const hh = Math.max(f.h / 2, 1e-6);
    const r = Math.abs(x - f.x - hw) / hw + Math.abs(y - f.y - hh) / hh;
    const slack = reach / Math.min(hw, hh);
    if (el.fill !== 'transparent' || el.label) return r <= 1 + slack;
    return Math.abs(r - 1) <= slack;
  }
  if (el.type === 'ellipse') {
    const rx = Math.max(f.w / 2, 1e-6);
    const ry = Math.max(f.h / 2, 1e-6);
    const r = Math.hypot((x - f.x - rx) / rx, (y - f.y - ry) / ry);
    if (el.fill !== 'transparent' || el.label) return r <= 1 + reach / Math.min(rx, ry);
    return Math.abs(r - 1) * Math.min(rx, ry) <= reach;
  }
  return true;
}

function nearPolyline(el, x, y, reach) {
  const pts = el.points;
  if (pts.length === 2) return Math.hypot(x - el.x - pts[0], y - el.y - pts[1]) <= reach;
  for (let i = 0; i + 3 < pts.length; i += 2) {
    const d = segmentDistance(x, y, el.x + pts[i], el.y + pts[i + 1], el.x + pts[i + 2], el.y + pts[i + 3]);
    if (d <= reach) return true;
  }
  return false;
}

/** Distance from point (px, py) to segment (ax, ay)-(bx, by). */
export function segmentDistance(px, py, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}
