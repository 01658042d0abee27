/**
 * Groups (shared/BOARD.md, "Groups and locks"): a group is an id in its members' `groupIds`,
 * innermost first; there is no group object. Pure functions over scene elements: which elements
 * a click selects at the level of the entered group, and the patches that group or ungroup a
 * selection (the caller writes them in one transaction).
 */
import { newId } from './ids.js';

/**
 * The group that stands for `el` at the level of the entered group `editing` (null: the top
 * level): its outermost group, or inside `editing` the group just inside it. Null when the
 * element stands for itself at that level.
 * @param {{groupIds: string[]}} el
 * @param {string | null} editing
 * @returns {string | null}
 */
export function levelGroup(el, editing) {
  const ids = el.groupIds;
  const at = editing ? ids.indexOf(editing) : -1;
  if (at < 0) return ids.length ? ids[ids.length - 1] : null;
  return at > 0 ? ids[at - 1] : null;
}

/** Whether `el` lies inside the entered group `editing` (always true at the top level). */
export function insideGroup(el, editing) {
  return !editing || el.groupIds.includes(editing);
}

/**
 * Ids of the elements a selection of `ids` stands for: each element's whole group at the
 * level of `editing`, in paint order.
 * @param {Array<{id: string, groupIds: string[]}>} ordered the scene in paint order
 * @param {Iterable<string>} ids
 * @param {string | null} editing
 * @returns {string[]}
 */
export function expandToGroups(ordered, ids, editing) {
  const wanted = new Set(ids);
  const groups = new Set();
  for (const el of ordered) {
    if (!wanted.has(el.id)) continue;
    const group = levelGroup(el, editing);
    if (group) groups.add(group);
  }
  if (groups.size === 0) return ordered.filter((el) => wanted.has(el.id)).map((el) => el.id);
  return ordered.filter((el) => wanted.has(el.id) || el.groupIds.some((g) => groups.has(g)))
    .map((el) => el.id);
}

/**
 * Units of a selection: each group at the level of `editing` and each ungrouped element is one
 * unit (align and distribute move units, not their members).
 * @param {Array<{id: string, groupIds: string[]}>} els selected elements
 * @param {string | null} editing
 * @returns {Array<typeof els>}
 */
export function unitsOf(els, editing) {
  const byGroup = new Map();
  const units = [];
  for (const el of els) {
    const group = levelGroup(el, editing);
    if (!group) {
      units.push([el]);
    } else if (byGroup.has(group)) {
      byGroup.get(group).push(el);
    } else {
      const unit = [el];
      byGroup.set(group, unit);
      units.push(unit);
    }
  }
  return units;
}

/**
 * Patches putting `els` into one new group: its id goes last (outermost), or inside an entered
 * group just inside that group's id. Nothing when fewer than two units would be grouped.
 * @param {Array<{id: string, groupIds: string[]}>} els
 * @param {string | null} editing
 * @param {string} [id] the new group's id
 * @returns {Array<[string, {groupIds: string[]}]>}
 */
export function groupPatches(els, editing, id = newId()) {
  if (unitsOf(els, editing).length < 2) return [];
  return els.map((el) => {
    const ids = el.groupIds.slice();
    const at = editing ? ids.indexOf(editing) : -1;
    if (at >= 0) ids.splice(at, 0, id);
    else ids.push(id);
    return [el.id, { groupIds: ids }];
  });
}

/**
 * Patches dissolving the groups that stand for `els` at the level of `editing` (one level:
 * nested groups inside them stay).
 * @param {Array<{id: string, groupIds: string[]}>} els
 * @param {string | null} editing
 * @returns {Array<[string, {groupIds: string[]}]>}
 */
export function ungroupPatches(els, editing) {
  const out = [];
  for (const el of els) {
    const group = levelGroup(el, editing);
    if (group) out.push([el.id, { groupIds: el.groupIds.filter((g) => g !== group) }]);
  }
  return out;
}

/**
 * Fresh group ids for copies (paste, duplicate): copies keep their grouping among themselves
 * but never join the originals' groups.
 * @param {Array<Record<string, any>>} items plain element fields, changed in place
 * @returns {typeof items}
 */
export function regroupCopies(items) {
  const renamed = new Map();
  for (const item of items) {
    if (!Array.isArray(item.groupIds)) continue;
    item.groupIds = item.groupIds.filter((g) => typeof g === 'string').map((g) => {
      if (!renamed.has(g)) renamed.set(g, newId());
      return renamed.get(g);
    });
  }
  return items;
}
