/**
 * PendingChanges: counts local changes the server has not confirmed yet, across page reloads.
 *
 * A local change is confirmed once a frame from the server carries it: its structs (the server's
 * update reaches each client clock the change reached) and its deletions (covered by a received
 * delete set). The server relays applied updates to their sender and answers sync step 1 with what
 * it holds, so a probe (step 1 with the pending clients' clocks lowered to their confirmed clocks)
 * makes it send back exactly the changes it has. Entries are kept in localStorage so edits made
 * offline still count after a reload (IndexedDB restores them under the old client id).
 *
 * The count is what the user sees as changes: the elements created, changed or deleted (and the
 * board's settings) that are not confirmed yet, not the CRDT updates (a pen stroke is dozens).
 */
import * as Y from 'yjs';

/**
 * @typedef {object} Entry
 * @property {Array<[number, number]>} clocks [client, clock after the change]
 * @property {Array<[number, number, number]>} deletes [client, clock, len] deleted ranges
 * @property {string[]} [ids] the elements the change touched (META_CHANGE for the settings)
 */

/** What an entry touching the board's `meta` map (title, background...) counts as. */
export const META_CHANGE = '#meta';

/**
 * The elements a local transaction created, changed or deleted: keys of the `elements` map,
 * plus META_CHANGE when it changed `meta`.
 * @param {Y.Transaction} transaction
 * @param {Y.Map<any>} elements
 * @param {Y.Map<any>} meta
 * @returns {string[]}
 */
export function changedElementIds(transaction, elements, meta) {
  const ids = new Set();
  for (const [type, keys] of transaction.changed) {
    if (type === elements) {
      for (const key of keys) if (key !== null) ids.add(key);
      continue;
    }
    let child = type;
    while (child.parent && child.parent !== elements && child !== meta) child = child.parent;
    if (child === meta) ids.add(META_CHANGE);
    else if (child.parent === elements) ids.add(keyOf(elements, child));
  }
  return [...ids];
}

/** The key of `child` in the map `parent` (an element's id): cached, scanned on a miss. */
const elementKeys = new WeakMap();
function keyOf(parent, child) {
  if (!elementKeys.has(child)) {
    for (const [key, value] of parent) if (value instanceof Y.AbstractType) elementKeys.set(value, key);
  }
  return elementKeys.get(child) ?? '';
}

export class PendingChanges {
  /**
   * @param {Y.Doc} doc
   * @param {string} storageKey localStorage key for the entries ('' = do not persist)
   * @param {(count: number) => void} onChange called when the count changes
   */
  constructor(doc, storageKey, onChange) {
    this._doc = doc;
    this._storageKey = storageKey;
    this._onChange = onChange;
    /** @type {Map<number, number>} highest clock per client the server is known to hold */
    this._confirmed = new Map();
    /** @type {Entry[]} */
    this._entries = this._load();
  }

  /** Number of local changes not yet confirmed: distinct elements (and settings) touched. */
  get count() {
    const touched = new Set();
    this._entries.forEach((entry, index) => {
      if (entry.ids?.length) for (const id of entry.ids) touched.add(id);
      else touched.add(index); // an entry stored before ids were recorded
    });
    return touched.size;
  }

  /**
   * Record a local update (from doc.on('update') for local origins).
   * @param {Uint8Array} update
   * @param {string[]} [ids] the elements it touched (changedElementIds)
   */
  addLocal(update, ids = []) {
    const clocks = [...Y.parseUpdateMeta(update).to];
    const deletes = [];
    for (const [client, items] of Y.decodeUpdate(update).ds.clients) {
      for (const item of items) deletes.push([client, item.clock, item.len]);
    }
    if (clocks.length === 0 && deletes.length === 0) return;
    this._entries.push({ clocks, deletes, ids });
    this._changed();
  }

  /** Look at an update that came from the server (sync step 2 or update frame). */
  addRemote(update) {
    if (this._entries.length === 0) return;
    // parseUpdateMeta, not encodeStateVectorFromUpdate: the latter counts only clients whose
    // structs start at clock 0, so it says nothing about an incremental update.
    for (const [client, clock] of Y.parseUpdateMeta(update).to) {
      if (clock > (this._confirmed.get(client) ?? 0)) this._confirmed.set(client, clock);
    }
    const needsDeletes = this._entries.some((e) => e.deletes.length > 0);
    const ds = needsDeletes ? Y.decodeUpdate(update).ds.clients : null;
    const before = this._entries.length;
    this._entries = this._entries.filter((entry) => {
      const structsIn = entry.clocks.every(([client, clock]) => (this._confirmed.get(client) ?? 0) >= clock);
      if (!structsIn) return true;
      entry.deletes = entry.deletes.filter(([client, clock, len]) => !covered(ds, client, clock, len));
      return entry.deletes.length > 0;
    });
    if (this._entries.length !== before) this._changed();
  }

  /** State vector for a probe: ours, with each pending client's clock lowered to the confirmed one. */
  probeStateVector() {
    const sv = Y.decodeStateVector(Y.encodeStateVector(this._doc));
    for (const entry of this._entries) {
      for (const [client] of entry.clocks) sv.set(client, this._confirmed.get(client) ?? 0);
    }
    return sv;
  }

  _changed() {
    if (this._storageKey) {
      try {
        if (this._entries.length === 0) localStorage.removeItem(this._storageKey);
        else localStorage.setItem(this._storageKey, JSON.stringify(this._entries.slice(-5000)));
      } catch {
        // Storage full or disabled: the count still works for this page.
      }
    }
    this._onChange(this.count);
  }

  _load() {
    if (!this._storageKey) return [];
    try {
      const stored = JSON.parse(localStorage.getItem(this._storageKey) ?? '[]');
      if (!Array.isArray(stored)) return [];
      return stored.filter((e) => Array.isArray(e?.clocks) && Array.isArray(e?.deletes)).map((e) => ({
        clocks: e.clocks, deletes: e.deletes,
        ids: Array.isArray(e.ids) ? e.ids.filter((id) => typeof id === 'string') : [],
      }));
    } catch {
      return [];
    }
  }
}

function covered(ds, client, clock, len) {
  const items = ds?.get(client);
  if (!items) return false;
  let need = clock;
  const end = clock + len;
  for (const item of [...items].sort((a, b) => a.clock - b.clock)) {
    if (item.clock <= need && item.clock + item.len > need) need = item.clock + item.len;
  }
  return need >= end;
}
