/**
 * Turn one stored element (a Y.Map) into a plain, validated object the painters can trust.
 * Renderers are tolerant (shared/BOARD.md, "Tolerance rules"): a missing or out-of-range field falls back to the schema
 * default or is clamped; unknown types are kept (and skipped by the painters), never fatal.
 */
import * as Y from 'yjs';
import { elementDefaults, FIELD_LIMITS, ELEMENT_TYPES, MAX_POINT_NUMBERS, META_DEFAULTS } from '../doc/schema.js';

const COLOR_RE = /^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|transparent)$/;
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const POINT_TYPES = new Set(['stroke', 'line', 'arrow']);
const ALIGNS = ['left', 'center', 'right'];
const STROKE_STYLES = ['solid', 'dashed', 'dotted'];
const ROUTINGS = ['straight', 'elbow'];
const MAX_LABEL = 100000;

/** Types that carry a `label` (a Y.Text drawn inside the shape or at the middle of the line). */
export const LABEL_TYPES = new Set(['rect', 'ellipse', 'diamond', 'line', 'arrow']);

/** Types whose geometry lives in `points`. */
export function hasPoints(type) {
  return POINT_TYPES.has(type);
}

/**
 * @typedef {object} El
 * @property {string} id
 * @property {string} type
 * @property {boolean} known whether the type is one the renderer can draw
 * @property {number} x
 * @property {number} y
 * @property {number} w
 * @property {number} h
 * @property {number} angle radians about the box centre
 * @property {string} z
 * @property {string} stroke
 * @property {string} fill
 * @property {number} strokeWidth
 * @property {number} opacity
 * @property {number[]} points relative x, y pairs (point types only)
 * @property {string} text
 * @property {number} fontSize
 * @property {string} align
 * @property {string} fileId
 * @property {boolean} arrowStart
 * @property {boolean} arrowEnd
 * @property {string} strokeStyle solid | dashed | dotted
 * @property {string} frameId id of the frame holding it, '' for none
 * @property {string} label rect, ellipse, diamond, line, arrow (schema 2)
 * @property {string} name a frame's title
 * @property {string} startBindId '' when the first point is free
 * @property {number} startAnchorX
 * @property {number} startAnchorY
 * @property {string} endBindId
 * @property {number} endAnchorX
 * @property {number} endAnchorY
 * @property {string} routing straight | elbow
 * @property {boolean} routed whether `points` were derived by routing (render/routing.js)
 * @property {number} [storedX] a routed connector's stored x (its x is then its route's)
 * @property {number} [storedY]
 * @property {string[]} groupIds group ids, innermost first (shared/BOARD.md, groups and locks)
 * @property {boolean} locked
 * @property {{minX: number, minY: number, maxX: number, maxY: number}} bounds world AABB
 * @property {Record<string, any>} cache painter memo (paths, wrapped lines), dropped on change
 */

/**
 * Read a Y.Map element into a plain El. Never throws on bad field values.
 * @param {string} id
 * @param {Y.Map<any>} ymap
 * @returns {El | null} null if the entry is not a map at all
 */
export function readElement(id, ymap) {
  if (!(ymap instanceof Y.Map)) return null;
  const rawType = ymap.get('type');
  const type = typeof rawType === 'string' ? rawType : 'unknown';
  const d = elementDefaults(type);
  const num = (key, fallback) => finite(ymap.get(key), finite(d[key], fallback));
  const el = {
    id,
    type,
    known: ELEMENT_TYPES.includes(type),
    x: num('x', 0),
    y: num('y', 0),
    w: num('w', 0),
    h: num('h', 0),
    angle: num('angle', 0),
    z: typeof ymap.get('z') === 'string' ? ymap.get('z') : '',
    stroke: color(ymap.get('stroke'), color(d.stroke, '#1e1e1e')),
    fill: color(ymap.get('fill'), color(d.fill, 'transparent')),
    strokeWidth: clamp(num('strokeWidth', 2), FIELD_LIMITS.strokeWidth),
    opacity: clamp(num('opacity', 1), FIELD_LIMITS.opacity),
    points: [],
    text: '',
    fontSize: clamp(num('fontSize', 20), FIELD_LIMITS.fontSize),
    align: oneOf(ymap.get('align'), ALIGNS, oneOf(d.align, ALIGNS, 'left')),
    fileId: typeof ymap.get('fileId') === 'string' ? ymap.get('fileId') : '',
    arrowStart: bool(ymap.get('arrowStart'), bool(d.arrowStart, false)),
    arrowEnd: bool(ymap.get('arrowEnd'), bool(d.arrowEnd, type === 'arrow')),
    strokeStyle: oneOf(ymap.get('strokeStyle'), STROKE_STYLES, 'solid'),
    frameId: refId(ymap.get('frameId')),
    label: '',
    name: typeof ymap.get('name') === 'string' ? ymap.get('name').slice(0, 200) : (d.name ?? ''),
    startBindId: refId(ymap.get('startBindId')),
    startAnchorX: unit(ymap.get('startAnchorX')),
    startAnchorY: unit(ymap.get('startAnchorY')),
    endBindId: refId(ymap.get('endBindId')),
    endAnchorX: unit(ymap.get('endAnchorX')),
    endAnchorY: unit(ymap.get('endAnchorY')),
    routing: oneOf(ymap.get('routing'), ROUTINGS, 'straight'),
    routed: false,
    groupIds: readGroupIds(ymap.get('groupIds')),
    locked: ymap.get('locked') === true,
    bounds: { minX: 0, minY: 0, maxX: 0, maxY: 0 },
    cache: {},
  };
  const rawPoints = ymap.get('points');
  if (hasPoints(type)) {
    el.points = readPoints(rawPoints);
    // A point type without a single point cannot be drawn (shared/BOARD.md tolerance rules).
    if (el.points.length < 2) el.known = false;
  }
  if (!ID_RE.test(id)) el.known = false;
  const rawText = ymap.get('text');
  if (rawText instanceof Y.Text) el.text = rawText.toString();
  else if (typeof rawText === 'string') el.text = rawText;
  const rawLabel = ymap.get('label');
  if (rawLabel instanceof Y.Text) el.label = rawLabel.toString().slice(0, MAX_LABEL);
  else if (typeof rawLabel === 'string') el.label = rawLabel.slice(0, MAX_LABEL);
  if (el.w < 0) {
    el.x += el.w;
    el.w = -el.w;
  }
  if (el.h < 0) {
    el.y += el.h;
    el.h = -el.h;
  }
  el.bounds = computeBounds(el);
  return el;
}

/**
 * Read the board's `meta` map with the schema's defaults and limits.
 * @param {Y.Map<any>} meta
 * @returns {{title: string, background: string, gridEnabled: boolean, gridSize: number}}
 */
export function readMeta(meta) {
  const d = META_DEFAULTS;
  const size = meta.get('gridSize');
  return {
    title: typeof meta.get('title') === 'string' ? meta.get('title').slice(0, 200) : d.title ?? '',
    background: color(meta.get('background'), color(d.background, '#ffffff')),
    gridEnabled: bool(meta.get('gridEnabled'), bool(d.gridEnabled, false)),
    gridSize: Number.isFinite(size) ? Math.min(512, Math.max(4, size)) : finite(d.gridSize, 20),
  };
}

/** Bounding box of an element's points relative to its x, y: {minX, minY, maxX, maxY}. */
export function pointBox(points) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const px = points[i];
    const py = points[i + 1];
    if (px < minX) minX = px;
    if (px > maxX) maxX = px;
    if (py < minY) minY = py;
    if (py > maxY) maxY = py;
  }
  if (minX === Infinity) return { minX: 0, minY: 0, maxX: 0, maxY: 0 };
  return { minX, minY, maxX, maxY };
}

/** The element's unrotated frame {x, y, w, h} in world units (point types: their points). */
export function frameOf(el) {
  if (hasPoints(el.type) && el.points.length >= 2) {
    const box = pointBox(el.points);
    return { x: el.x + box.minX, y: el.y + box.minY, w: box.maxX - box.minX, h: box.maxY - box.minY };
  }
  return { x: el.x, y: el.y, w: el.w, h: el.h };
}

/** The rotation centre of an element, in world units. */
export function centerOf(el) {
  const f = frameOf(el);
  return { x: f.x + f.w / 2, y: f.y + f.h / 2 };
}

/** Whether the bounds of `el` intersect `rect` (render/scene.js `visible`). */
export function inRect(el, rect) {
  const b = el.bounds;
  return b.maxX >= rect.minX && b.minX <= rect.maxX && b.maxY >= rect.minY && b.minY <= rect.maxY;
}

/** The world AABB of an element, padded for its stroke and arrowheads. */
export function computeBounds(el) {
  const f = frameOf(el);
  const pad = el.strokeWidth / 2 + (el.type === 'arrow' ? el.strokeWidth * 3 + 8 : 1);
  const cx = f.x + f.w / 2;
  const cy = f.y + f.h / 2;
  if (!el.angle) {
    return { minX: f.x - pad, minY: f.y - pad, maxX: f.x + f.w + pad, maxY: f.y + f.h + pad };
  }
  const cos = Math.abs(Math.cos(el.angle));
  const sin = Math.abs(Math.sin(el.angle));
  const halfW = (f.w * cos + f.h * sin) / 2 + pad;
  const halfH = (f.w * sin + f.h * cos) / 2 + pad;
  return { minX: cx - halfW, minY: cy - halfH, maxX: cx + halfW, maxY: cy + halfH };
}

function readPoints(raw) {
  const list = (raw instanceof Y.Array ? raw.toArray() : Array.isArray(raw) ? raw : []).slice(0, MAX_POINT_NUMBERS);
  const out = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const px = list[i];
    const py = list[i + 1];
    if (Number.isFinite(px) && Number.isFinite(py)) out.push(px, py);
  }
  return out;
}

function oneOf(value, choices, fallback) {
  return choices.includes(value) ? value : fallback;
}

/** Another element's id, or '' (anything that is not an id). */
function refId(value) {
  return typeof value === 'string' && ID_RE.test(value) ? value : '';
}

/** A 0..1 anchor coordinate, clamped; 0.5 when missing or not finite. */
function unit(value) {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5;
}

/** Most group ids kept per element (the schema's maxItems of `groupIds`). */
const MAX_GROUP_IDS = 32;

/** `groupIds` as the tolerance rule reads it: of the first 32 items, the url-safe ids, no repeats. */
function readGroupIds(raw) {
  if (!Array.isArray(raw)) return [];
  const out = [];
  for (const item of raw.slice(0, MAX_GROUP_IDS)) {
    if (typeof item === 'string' && ID_RE.test(item) && !out.includes(item)) out.push(item);
  }
  return out;
}

function finite(value, fallback) {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function color(value, fallback) {
  return typeof value === 'string' && COLOR_RE.test(value) ? value : fallback;
}

function bool(value, fallback) {
  return typeof value === 'boolean' ? value : fallback;
}

function clamp(value, limits) {
  if (!limits) return value;
  return Math.min(limits.max, Math.max(limits.min, value));
}
