/**
 * restoreInto: make a board's `meta` and `elements` equal a past version's, writing only what
 * differs (the browser's side of backend/restore.py). Elements deleted since come back as new
 * maps, elements added since are deleted, changed fields are set back; untouched fields are not
 * written, so others' concurrent edits of them survive. Called inside one Board transaction,
 * so a restore is one undo step.
 */
import * as Y from 'yjs';

/**
 * @param {Y.Doc} doc the live board (inside a transaction)
 * @param {Y.Doc} version the version's document
 * @param {Iterable<string> | null} ids restore only these elements (meta untouched); null: all
 * @returns {number} how many elements changed
 */
export function restoreInto(doc, version, ids = null) {
  const only = ids === null ? null : new Set(ids);
  if (only === null) syncMap(doc.getMap('meta'), version.getMap('meta'), null);
  return syncMap(doc.getMap('elements'), version.getMap('elements'), only);
}

function syncMap(have, want, only) {
  const keys = new Set([...have.keys(), ...want.keys()]);
  let changed = 0;
  for (const key of [...keys].sort()) {
    if (only !== null && !only.has(key)) continue;
    if (!want.has(key)) {
      have.delete(key);
      changed++;
    } else if (!have.has(key)) {
      have.set(key, copy(want.get(key)));
      changed++;
    } else {
      const current = have.get(key);
      const wanted = want.get(key);
      if (same(plain(current), plain(wanted))) continue;
      if (current instanceof Y.Map && wanted instanceof Y.Map) syncFields(current, wanted);
      else have.set(key, copy(wanted));
      changed++;
    }
  }
  return changed;
}

function syncFields(have, want) {
  for (const name of [...have.keys()]) if (!want.has(name)) have.delete(name);
  for (const [name, value] of want.entries()) {
    if (!have.has(name) || !same(plain(have.get(name)), plain(value))) have.set(name, copy(value));
  }
}

/** A fresh copy of a value read from another document (shared types by structure). */
function copy(value) {
  if (value instanceof Y.Text) return new Y.Text(value.toString());
  if (value instanceof Y.Array) {
    const out = new Y.Array();
    out.push(value.toArray().map(copy));
    return out;
  }
  if (value instanceof Y.Map) {
    const out = new Y.Map();
    for (const [key, item] of value.entries()) out.set(key, copy(item));
    return out;
  }
  return value;
}

function plain(value) {
  if (value instanceof Y.Text) return value.toString();
  if (value instanceof Y.AbstractType) return value.toJSON();
  return value;
}

/** Deep equality of plain JSON values, key order ignored. */
function same(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && same(a[key], b[key]));
}
