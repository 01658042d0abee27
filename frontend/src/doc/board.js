/**
 * Board: the only writer to the Y.Doc. It follows the document model in shared/board.schema.json
 * (issue 3): `meta` map, `elements` map of id -> Y.Map, `points` as a Y.Array of numbers relative
 * to x, y, `text` as a Y.Text. Every write is one `doc.transact` with LOCAL_ORIGIN so that the
 * UndoManager undoes this user's own changes only.
 */
import * as Y from 'yjs';
import { newId } from './ids.js';
import { keyBetween, keysAbove } from './zorder.js';
import { elementDefaults, MAX_POINT_NUMBERS, SCHEMA_VERSION } from './schema.js';
import { restoreInto } from './restore.js';

/** Types whose `label` is a Y.Text (schema 2), as render/element.js reads them. */
const LABEL_TYPES = new Set(['rect', 'ellipse', 'diamond', 'line', 'arrow']);

/**
 * Schema-2 fields left out of a new element while they hold their default (readers apply the
 * default to a missing field): with them a 10,000-element board's document grew by about half.
 */
const SPARSE_FIELDS = new Set(['strokeStyle', 'frameId', 'startBindId', 'startAnchorX', 'startAnchorY',
  'endBindId', 'endAnchorX', 'endAnchorY', 'routing']);
const SPARSE_LABEL_FIELDS = new Set(['fontSize', 'align']);

/** Transaction origin of every local edit; the UndoManager tracks only this origin. */
export const LOCAL_ORIGIN = 'syncboard-local';

/** Origin of automatic writes (meta initialisation) that undo must not revert. */
const INIT_ORIGIN = 'syncboard-init';

/** Origin of repairs this client makes for everyone (an orphaned connector): never undone. */
export const REPAIR_ORIGIN = 'syncboard-repair';

/**
 * Undo steps are cut by gestures, never by time: inside `beginGesture()` / `endGesture()` every
 * write joins one step however long the gesture takes; outside one, each write is its own step.
 */
const UNDO_CAPTURE_MS = Number.POSITIVE_INFINITY;

export class Board {
  /**
   * @param {Y.Doc} doc
   * @param {() => string} currentUser returns the display name stored in `createdBy`
   * @param {{readOnly?: boolean}} [options] readOnly: a view-only link; every write is skipped
   *   (the server would drop it anyway)
   */
  constructor(doc, currentUser, { readOnly = false } = {}) {
    this.readOnly = readOnly;
    this.doc = doc;
    this.meta = doc.getMap('meta');
    this.elements = doc.getMap('elements');
    this._currentUser = currentUser;
    /** Open gestures (pointer drag, text-editing session, paste...); > 0 groups writes. */
    this._gestures = 0;
    /**
     * Called with the ids about to be removed, inside the removing transaction; returns
     * connector patches (`patchConnectors`) so connectors bound to them keep their drawn ends.
     * @type {((ids: string[]) => Array<[string, {points?: number[], fields: Record<string, any>}]>) | null}
     */
    this.beforeRemove = null;
    /**
     * Set by the page: what removing `ids` removes (a frame takes the elements it holds).
     * @type {((ids: string[]) => string[]) | null}
     */
    this.removalOf = null;
    this.undoManager = new Y.UndoManager([this.elements, this.meta], {
      trackedOrigins: new Set([LOCAL_ORIGIN]),
      captureTimeout: UNDO_CAPTURE_MS,
    });
  }

  /** Run `fn` in one local transaction (not at all on a view-only board). */
  transact(fn) {
    if (this.readOnly) return;
    this.doc.transact(fn, LOCAL_ORIGIN);
    if (this._gestures === 0) this.undoManager.stopCapturing();
  }

  /**
   * Open a gesture: every write until the matching `endGesture()` is one undo step (a drag from
   * pointer down to up, a text-editing session, a paste, an import). Gestures nest.
   */
  beginGesture() {
    if (this._gestures === 0) this.undoManager.stopCapturing();
    this._gestures++;
  }

  /** Close the gesture `beginGesture()` opened; the next write starts a new undo step. */
  endGesture() {
    if (this._gestures === 0) return;
    this._gestures--;
    if (this._gestures === 0) this.undoManager.stopCapturing();
  }

  /** @returns {Y.Map<any> | undefined} */
  get(id) {
    return this.elements.get(id);
  }

  /** The highest z key on the board (null on an empty board). */
  topZ() {
    let top = null;
    for (const element of this.elements.values()) {
      const z = element instanceof Y.Map ? element.get('z') : null;
      if (typeof z === 'string' && (top === null || z > top)) top = z;
    }
    return top;
  }

  /**
   * Create one element on top of the others and return its id.
   * @param {string} type
   * @param {Record<string, any>} fields plain values; `points` an array of numbers, `text` a string
   */
  create(type, fields) {
    const id = newId();
    this.transact(() => {
      this.elements.set(id, this._buildElement(type, fields, keyBetween(this.topZ(), null)));
    });
    return id;
  }

  /**
   * Create many elements at once above the current top (paste, duplicate, import).
   * @param {Array<{type: string} & Record<string, any>>} items
   * @returns {string[]} the new ids, in the given order
   */
  createMany(items) {
    const ids = items.map(() => newId());
    const keys = keysAbove(this.topZ(), items.length);
    this.transact(() => {
      items.forEach((item, i) => {
        this.elements.set(ids[i], this._buildElement(item.type, item, keys[i]));
      });
    });
    return ids;
  }

  /**
   * Set plain fields on elements. Keys `points`, `text` and `label` are not accepted here.
   * @param {Map<string, Record<string, any>> | Array<[string, Record<string, any>]>} patches
   * @param {{rewrite?: boolean}} [options] rewrite: write a field even where it already holds
   *   the value, so that other pages see this page decided it (a frame membership confirmed at
   *   the end of a move or resize, tools/framerepair.js); else an unchanged field is skipped
   */
  update(patches, { rewrite = false } = {}) {
    this.transact(() => this._setFields(patches, rewrite));
  }

  /**
   * `update` for a repair of what concurrent edits left inconsistent (a `frameId` naming a
   * frame that does not hold the element, tools/framerepair.js): not this user's edit, so undo
   * skips it. Nothing on a view-only board.
   * @param {Array<[string, Record<string, any>]>} patches
   */
  repair(patches) {
    if (this.readOnly || patches.length === 0) return;
    this.doc.transact(() => this._setFields(patches, false), REPAIR_ORIGIN);
  }

  /** Whether a gesture (`beginGesture`) is open: a drag, a text-editing session, a paste. */
  get inGesture() {
    return this._gestures > 0;
  }

  _setFields(patches, rewrite) {
    for (const [id, patch] of patches) {
      const element = this.elements.get(id);
      if (!(element instanceof Y.Map)) continue;
      for (const [key, value] of Object.entries(patch)) {
        if (key === 'points' || key === 'text' || key === 'label') continue;
        if (rewrite || element.get(key) !== value) element.set(key, value);
      }
    }
  }

  /** Room left in an element's `points` before it reaches the per-element cap. */
  pointRoom(id) {
    const points = this.elements.get(id)?.get('points');
    return points instanceof Y.Array ? MAX_POINT_NUMBERS - points.length : 0;
  }

  /**
   * Append numbers to a stroke's `points` (a live stroke grows while drawing) and set its box.
   * @param {string} id
   * @param {number[]} numbers relative x, y pairs
   * @param {Record<string, number>} box new x, y, w, h if the bounds moved
   */
  appendPoints(id, numbers, box) {
    this.transact(() => {
      const element = this.elements.get(id);
      const points = element?.get('points');
      if (!(points instanceof Y.Array)) return;
      points.push(numbers.slice(0, Math.max(0, MAX_POINT_NUMBERS - points.length)));
      for (const [key, value] of Object.entries(box)) element.set(key, value);
    });
  }

  /**
   * Replace the whole `points` array (resize of a stroke or line, end-point drag).
   * @param {string} id
   * @param {number[]} numbers
   * @param {Record<string, number>} box
   */
  setPoints(id, numbers, box) {
    this.transact(() => {
      const element = this.elements.get(id);
      const points = element?.get('points');
      if (!(points instanceof Y.Array)) return;
      points.delete(0, points.length);
      points.push(numbers.slice(0, MAX_POINT_NUMBERS));
      for (const [key, value] of Object.entries(box)) element.set(key, value);
    });
  }

  /**
   * Replace connectors' stored points and set fields (bindings) in one write per connector:
   * `patches` holds [id, {points, fields}], points absolute-free relative x, y pairs.
   */
  patchConnectors(patches) {
    this.transact(() => this._patchConnectors(patches));
  }

  /**
   * `patchConnectors` for a repair of what another change left behind (a connector whose
   * target vanished): not this user's edit, so undo skips it. Nothing on a view-only board.
   */
  repairConnectors(patches) {
    if (this.readOnly || patches.length === 0) return;
    this.doc.transact(() => this._patchConnectors(patches), REPAIR_ORIGIN);
  }

  _patchConnectors(patches) {
    for (const [id, { points, fields }] of patches) {
      const element = this.elements.get(id);
      if (!(element instanceof Y.Map)) continue;
      const stored = element.get('points');
      if (points && stored instanceof Y.Array) {
        stored.delete(0, stored.length);
        stored.push(points.slice(0, MAX_POINT_NUMBERS));
      }
      for (const [key, value] of Object.entries(fields)) {
        if (element.get(key) !== value) element.set(key, value);
      }
    }
  }

  /**
   * Give an element an empty Y.Text `field` if it has none (a label on a board written before
   * schema 2); returns whether it has one now.
   */
  ensureText(id, field) {
    const element = this.elements.get(id);
    if (!(element instanceof Y.Map)) return false;
    if (element.get(field) instanceof Y.Text) return true;
    if (this.readOnly) return false;
    const previous = element.get(field);
    this.transact(() => element.set(field, new Y.Text(typeof previous === 'string' ? previous : '')));
    return true;
  }

  /**
   * Make an element's Y.Text equal `next` with the smallest edit (common prefix and suffix kept),
   * so two people typing in one note keep both their edits. `field`: `text` or `label`.
   */
  setText(id, next, field = 'text') {
    const text = this.elements.get(id)?.get(field);
    if (!(text instanceof Y.Text)) return;
    const prev = text.toString();
    if (prev === next) return;
    let start = 0;
    while (start < prev.length && start < next.length && prev[start] === next[start]) start++;
    let endPrev = prev.length;
    let endNext = next.length;
    while (endPrev > start && endNext > start && prev[endPrev - 1] === next[endNext - 1]) {
      endPrev--;
      endNext--;
    }
    this.transact(() => {
      if (endPrev > start) text.delete(start, endPrev - start);
      if (endNext > start) text.insert(start, next.slice(start, endNext));
    });
  }

  /** Delete elements by id. */
  remove(ids) {
    this.transact(() => {
      const all = this.removalOf ? this.removalOf([...ids]) : [...ids];
      if (this.beforeRemove) this._patchConnectors(this.beforeRemove(all));
      for (const id of all) this.elements.delete(id);
    });
  }

  /** Set new z keys: `zById` maps id -> key. */
  setZ(zById) {
    this.update([...zById].map(([id, z]) => [id, { z }]));
  }

  /** Write `meta.schemaVersion` once a board is known to lack it (not an undoable user edit). */
  initMeta() {
    if (this.readOnly || this.meta.get('schemaVersion') !== undefined) return;
    this.doc.transact(() => this.meta.set('schemaVersion', SCHEMA_VERSION), INIT_ORIGIN);
  }

  /**
   * Write a checked JSON export form onto the board, as the server's import does: elements with
   * the same id are replaced, meta fields overwritten, everything else left alone. One
   * transaction, so one undo step.
   * @param {{meta?: Record<string, any>, elements: Array<Record<string, any>>}} data
   */
  importBoard(data) {
    this.transact(() => {
      for (const [key, value] of Object.entries(data.meta ?? {})) this.meta.set(key, value);
      this.meta.set('schemaVersion', SCHEMA_VERSION);
      for (const { id, type, z, ...fields } of data.elements) {
        const element = this._buildElement(type, fields, z);
        if ('createdBy' in fields) element.set('createdBy', fields.createdBy);
        this.elements.set(id, element);
      }
    });
  }

  /**
   * Make the board (or only the elements `ids`) what it was in `version` (a Y.Doc of a past
   * version): one transaction, so one undo step. Returns how many elements changed.
   */
  restoreVersion(version, ids = null) {
    let changed = 0;
    this.transact(() => {
      changed = restoreInto(this.doc, version, ids);
    });
    return changed;
  }

  /** Set the board's title in `meta`. */
  setTitle(title) {
    this.transact(() => this.meta.set('title', String(title).trim().slice(0, 120)));
  }

  /** Undo this user's last change (never a remote one). */
  undo() {
    this.undoManager.stopCapturing();
    this.undoManager.undo();
  }

  redo() {
    this.undoManager.redo();
  }

  _buildElement(type, fields, z) {
    const element = new Y.Map();
    const defaults = elementDefaults(type);
    const values = { ...defaults, ...fields, type, z, createdBy: this._currentUser() };
    for (const [key, value] of Object.entries(values)) {
      if (key === 'id' || value === undefined) continue;
      const sparse = SPARSE_FIELDS.has(key) || (LABEL_TYPES.has(type) && SPARSE_LABEL_FIELDS.has(key));
      if (sparse && value === defaults[key]) continue;
      if (key === 'points') {
        const points = new Y.Array();
        points.push(Array.from(value).slice(0, MAX_POINT_NUMBERS));
        element.set('points', points);
      } else if (key === 'text' || (key === 'label' && LABEL_TYPES.has(type) && typeof value === 'string')) {
        element.set(key, new Y.Text(String(value)));
      } else {
        element.set(key, value);
      }
    }
    return element;
  }
}
