/**
 * Reads the board document model, shared/board.schema.json, into what the page needs: element
 * types, per-type default field values, numeric limits and the per-element points cap.
 * The schema is walked generically (JSON Schema `properties`, `default`, `minimum`/`maximum`,
 * `maxItems`, `enum`/`const`), so refinements of the schema reach the page without code changes.
 */
import schema from '../../../shared/board.schema.json' with { type: 'json' };

/** Schema version the page writes into `meta.schemaVersion` (from the schema itself). */
export const SCHEMA_VERSION = findSchemaVersion(schema);

/** Element types the renderer knows (the schema's `type` enum). */
export const ELEMENT_TYPES = findElementTypes(schema);

const COMMON_DEFAULTS = collectDefaults(findCommonProperties(schema));
const TYPE_DEFAULTS = Object.fromEntries(
  ELEMENT_TYPES.map((type) => [type, { ...COMMON_DEFAULTS, ...collectDefaults(findTypeProperties(schema, type)) }]),
);

/** Numeric limits {min, max} of style fields, from the schema's minimum/maximum. */
export const FIELD_LIMITS = {
  strokeWidth: findLimits(schema, 'strokeWidth', { min: 0, max: 100 }),
  opacity: findLimits(schema, 'opacity', { min: 0, max: 1 }),
  fontSize: findLimits(schema, 'fontSize', { min: 4, max: 400 }),
};

/** Defaults of the board's `meta` map (title, background, gridEnabled, gridSize...). */
export const META_DEFAULTS = collectDefaults(findMetaProperties(schema));

/** Most numbers one element's `points` may hold (x, y pairs: an even count). */
export const MAX_POINT_NUMBERS = findMaxPoints(schema);

/**
 * Default plain field values for a new element of `type` (no `points`/`text` containers).
 * @param {string} type
 * @returns {Record<string, any>}
 */
export function elementDefaults(type) {
  return TYPE_DEFAULTS[type] ?? COMMON_DEFAULTS;
}

function* walk(node, path = []) {
  if (!node || typeof node !== 'object') return;
  yield [node, path];
  for (const [key, child] of Object.entries(node)) {
    if (child && typeof child === 'object') yield* walk(child, [...path, key]);
  }
}

function findSchemaVersion(root) {
  for (const [node] of walk(root)) {
    const v = node.properties?.schemaVersion;
    if (v && (Number.isInteger(v.const) || Number.isInteger(v.default))) return v.const ?? v.default;
  }
  return Number.isInteger(root.version) ? root.version : 1;
}

function findElementTypes(root) {
  for (const [node] of walk(root)) {
    const t = node.properties?.type;
    if (t && Array.isArray(t.enum) && t.enum.includes('rect')) return t.enum.filter((v) => typeof v === 'string');
  }
  const found = [];
  for (const [node] of walk(root)) {
    const c = node.properties?.type?.const;
    if (typeof c === 'string' && !found.includes(c)) found.push(c);
  }
  return found;
}

/** The object schema whose properties hold the fields every element has (x, y, z, type...). */
function findCommonProperties(root) {
  let best = {};
  for (const [node] of walk(root)) {
    const p = node.properties;
    if (p && p.x && p.y && p.z && p.type && Object.keys(p).length > Object.keys(best).length) best = p;
  }
  return best;
}

/** Properties declared for one element type (an object schema with type const or if/then). */
function findTypeProperties(root, type) {
  const merged = {};
  for (const [node] of walk(root)) {
    const t = node.properties?.type;
    const matches = t && (t.const === type || (Array.isArray(t.enum) && t.enum.length === 1 && t.enum[0] === type));
    if (matches) Object.assign(merged, node.properties);
    if (node.if?.properties?.type?.const === type && node.then?.properties) {
      Object.assign(merged, node.then.properties);
    }
  }
  for (const [node] of walk(root)) {
    const defaults = node['x-defaults'] ?? node.defaultsByType;
    if (defaults && typeof defaults[type] === 'object') {
      for (const [key, value] of Object.entries(defaults[type])) merged[key] = { default: value };
    }
  }
  return merged;
}

function collectDefaults(properties) {
  const out = {};
  for (const [key, prop] of Object.entries(properties ?? {})) {
    if (!prop || typeof prop !== 'object' || !('default' in prop)) continue;
    if (key === 'points' || key === 'text' || key === 'id' || key === 'z' || key === 'type') continue;
    const value = prop.default;
    if (value === null || typeof value !== 'object') out[key] = value;
  }
  return out;
}

function findMetaProperties(root) {
  return root.$defs?.meta?.properties ?? root.properties?.meta?.properties ?? {};
}

function findLimits(root, field, fallback) {
  for (const [node] of walk(root)) {
    const p = node.properties?.[field];
    if (p && (Number.isFinite(p.minimum) || Number.isFinite(p.maximum))) {
      return { min: p.minimum ?? fallback.min, max: p.maximum ?? fallback.max };
    }
  }
  return fallback;
}

function findMaxPoints(root) {
  for (const [node] of walk(root)) {
    const p = node.properties?.points;
    if (p && Number.isInteger(p.maxItems)) return p.maxItems - (p.maxItems % 2);
  }
  return 2000;
}
