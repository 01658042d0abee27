/**
 * PendingChanges: counts local changes the server has not confirmed yet, across page reloads.
 *
 * A local change is confirmed once a frame from the server carries it: its structs (the server's
 * update reaches each client clock the change reached) and its deletions (covered by a received
 * delete set). The server relays applied updates to their sender and answers sync step 1 with what
 * it holds, so a probe (step 1 with the pending clients' clocks lowered to their confirmed clocks)
 * makes it send back exactly the changes it has. Entries are kept in localStorage so edits made
 * offline still count after a reload (IndexedDB restores them under the old client id).
 */
import * as Y from 'yjs';

/**
 * @typedef {object} Entry
 * @property {Array<[number, number]>} clocks [client, clock after the change]
 * @property {Array<[number, number, number]>} deletes [client, clock, len] deleted ranges
 */

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

  /** Number of local changes not yet confirmed. */
  get count() {
    return this._entries.length;
  }

  /** Record a local update (from doc.on('update') for local origins). */
  addLocal(update) {
    const clocks = [...Y.parseUpdateMeta(update).to];
    const deletes = [];
    for (const [client, items] of Y.decodeUpdate(update).ds.clients) {
      for (const item of items) deletes.push([client, item.clock, item.len]);
    }
    if (clocks.length === 0 && deletes.length === 0) return;
    this._entries.push({ clocks, deletes });
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
      return Array.isArray(stored) ? stored.filter((e) => Array.isArray(e?.clocks) && Array.isArray(e?.deletes)) : [];
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
