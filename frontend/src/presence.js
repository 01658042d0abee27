/**
 * Presence: this user's awareness state (name, colour, cursor, selection, view) and the list of
 * other participants. Cursor updates are throttled; presence reaches only the overlay and the
 * participant list, never the document. Meeting signals (laser, cursor chat, reactions,
 * "bring everyone to me", see meeting/signals.js) are extra top-level fields that stock Yjs
 * clients and older pages ignore; the laser trail shares the cursor's throttle.
 */
import { readSignals } from './meeting/signals.js';

/** Send the cursor at most this often. */
export const CURSOR_INTERVAL_MS = 40;
/**
 * Bytes of element ids the published selection may hold: the server drops a presence state
 * over --presence-max-state-bytes (8 KiB by default), so a big selection is shown to others
 * in part (about 300 ids) rather than not at all.
 */
export const SELECTION_BUDGET_BYTES = 6 * 1024;

/**
 * @typedef {object} Participant
 * @property {number} clientId
 * @property {string} name
 * @property {string} color
 * @property {{x: number, y: number} | null} cursor
 * @property {string[]} selection
 * @property {{x: number, y: number, zoom: number, w?: number, h?: number} | null} view center
 *   and zoom of their viewport (w, h: its size in CSS pixels, from pages that publish it)
 * @property {import('./meeting/signals.js').Signals} signals laser, chat, reaction, summon
 */

export class Presence {
  /**
   * @param {import('y-protocols/awareness').Awareness} awareness
   * @param {{name: string, color: string}} user
   * @param {() => void} onChange called when any participant's state changed
   */
  constructor(awareness, user, onChange) {
    this.awareness = awareness;
    /** Throttled fields (cursor, laser) waiting for the next flush. */
    this._pending = new Map();
    this._cursorTimer = 0;
    this._lastCursorMs = 0;
    awareness.setLocalState({ user, cursor: null, selection: [], view: null });
    awareness.on('change', onChange);
  }

  /** Update name and colour. */
  setUser(user) {
    this.awareness.setLocalStateField('user', user);
  }

  /** Move this user's cursor (world coordinates, or null when it left the board). */
  setCursor(cursor) {
    this._throttled('cursor', cursor);
  }

  /** Publish the laser trail (see meeting/laser.js), on the cursor's throttle. */
  setLaser(laser) {
    this._throttled('laser', laser);
  }

  /** Publish one unthrottled field (chat, reaction, summon: a few per second at most). */
  setField(name, value) {
    this.awareness.setLocalStateField(name, value);
  }

  _throttled(name, value) {
    this._pending.set(name, value);
    const wait = this._lastCursorMs + CURSOR_INTERVAL_MS - performance.now();
    if (wait <= 0) this._flushCursor();
    else if (!this._cursorTimer) this._cursorTimer = setTimeout(() => this._flushCursor(), wait);
  }

  setSelection(ids) {
    this.awareness.setLocalStateField('selection', selectionWithinBudget(ids));
  }

  /** Publish this user's viewport center and zoom (for followers). */
  setView(view) {
    this.awareness.setLocalStateField('view', view);
  }

  /** @returns {Participant[]} everyone else on the board. */
  others() {
    const out = [];
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID || !state?.user) continue;
      out.push(toParticipant(clientId, state));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.clientId - b.clientId);
  }

  _flushCursor() {
    clearTimeout(this._cursorTimer);
    this._cursorTimer = 0;
    this._lastCursorMs = performance.now();
    const fields = Object.fromEntries(this._pending);
    this._pending.clear();
    this.awareness.setLocalState({ ...this.awareness.getLocalState(), ...fields });
  }
}

/**
 * The first ids of `ids` whose JSON array stays within `budget` bytes (ids are ASCII).
 * @param {Iterable<string>} ids
 * @param {number} [budget]
 * @returns {string[]}
 */
export function selectionWithinBudget(ids, budget = SELECTION_BUDGET_BYTES) {
  const out = [];
  let bytes = 2; // []
  for (const id of ids) {
    bytes += id.length + 3; // "id",
    if (bytes > budget) break;
    out.push(id);
  }
  return out;
}

function toParticipant(clientId, state) {
  const user = state.user ?? {};
  const cursor = state.cursor;
  const view = state.view;
  return {
    clientId,
    name: typeof user.name === 'string' ? user.name.slice(0, 40) : 'Guest',
    color: /^#[0-9a-f]{6}$/i.test(user.color) ? user.color : '#868e96',
    cursor: cursor && Number.isFinite(cursor.x) && Number.isFinite(cursor.y) ? cursor : null,
    selection: Array.isArray(state.selection) ? state.selection.filter((s) => typeof s === 'string') : [],
    view: view && Number.isFinite(view.x) && Number.isFinite(view.y) && Number.isFinite(view.zoom) ? view : null,
    signals: readSignals(state),
  };
}
