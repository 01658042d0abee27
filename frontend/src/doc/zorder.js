/**
 * Fractional z-order keys: elements are painted in (z, id) order, never by map or array position,
 * so two people inserting at once never conflict (issue 3). Keys come from `fractional-indexing`.
 */
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

/**
 * Compare two elements by (z, id), the board's paint order.
 * @param {{z: string, id: string}} a
 * @param {{z: string, id: string}} b
 */
export function compareZ(a, b) {
  if (a.z !== b.z) return a.z < b.z ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/**
 * A key strictly between `below` and `above` (either may be null for "no bound").
 * Falls back to an unbounded side when a stored key is not a valid fractional index.
 * @param {string | null} below
 * @param {string | null} above
 * @returns {string}
 */
export function keyBetween(below, above) {
  try {
    return generateKeyBetween(below, above);
  } catch {
    try {
      return generateKeyBetween(below, null);
    } catch {
      return generateKeyBetween(null, null);
    }
  }
}

/**
 * `count` increasing keys above `below` (used to place many new elements at once).
 * @param {string | null} below
 * @param {number} count
 * @returns {string[]}
 */
export function keysAbove(below, count) {
  try {
    return generateNKeysBetween(below, null, count);
  } catch {
    return generateNKeysBetween(null, null, count);
  }
}
