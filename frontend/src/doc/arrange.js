/**
 * Z-order changes as new fractional keys: bring forward / send backward move each selected element
 * past its next overlapping neighbour; to front / to back move the selection past everyone.
 * Pure functions over the scene's paint order; Board.setZ writes the result.
 */
import { keyBetween } from './zorder.js';

/**
 * @param {Array<{id: string, z: string, bounds: object}>} ordered elements in paint order
 * @param {Set<string>} selected
 * @param {'forward' | 'backward' | 'front' | 'back'} how
 * @returns {Map<string, string>} id -> new z key
 */
export function reorder(ordered, selected, how) {
  const out = new Map();
  const chosen = ordered.filter((el) => selected.has(el.id));
  if (chosen.length === 0) return out;
  if (how === 'front' || how === 'back') {
    const others = ordered.filter((el) => !selected.has(el.id));
    let below = how === 'front' ? (others.at(-1)?.z ?? null) : null;
    const above = how === 'back' ? (others[0]?.z ?? null) : null;
    for (const el of chosen) {
      const z = keyBetween(below, above);
      out.set(el.id, z);
      below = z;
    }
    return out;
  }
  const list = ordered.slice();
  const step = how === 'forward' ? 1 : -1;
  const sequence = how === 'forward' ? chosen.slice().reverse() : chosen;
  for (const el of sequence) {
    const i = list.findIndex((x) => x.id === el.id);
    let j = i + step;
    while (j >= 0 && j < list.length && !selected.has(list[j].id) && !overlaps(list[j].bounds, el.bounds)) j += step;
    if (j < 0 || j >= list.length || selected.has(list[j].id)) continue;
    const neighbour = list[j];
    const beyond = list[j + step];
    const z = how === 'forward'
      ? keyBetween(neighbour.z, beyond?.z ?? null)
      : keyBetween(beyond?.z ?? null, neighbour.z);
    out.set(el.id, z);
    list.splice(i, 1);
    const moved = { ...el, z };
    list.splice(j, 0, moved);
  }
  return out;
}

function overlaps(a, b) {
  return a.maxX >= b.minX && a.minX <= b.maxX && a.maxY >= b.minY && a.minY <= b.maxY;
}
