/**
 * Scene: plain, validated copies of the board's elements in paint order (z, id), re-read from the
 * ids the document observer marked dirty: by the frame loop, or earlier by the first reader of
 * `byId` or `ordered` after a change. Painters and hit tests read the scene, never the Y.Doc, and
 * never see it behind the document: a click or a shortcut handled before the next frame (a fast
 * hand, a busy machine) acts on the groups and locks the board has now, not on the last frame's.
 * `version` is the change counter painters memoize on; `changedSince` lists the ids re-read
 * since an earlier refresh (for the snap lines of a drag, ui/snapping.js `liveTargets`).
 * Connectors (lines, arrows) are routed here (render/routing.js): their El carries the drawn
 * points, and a change to an element re-routes the connectors bound to it.
 */
import * as Y from 'yjs';
import { readElement, computeBounds, inRect } from './element.js';
import { routeArrow } from './routing.js';
import { compareZ } from '../doc/zorder.js';
import { LOCAL_ORIGIN, REPAIR_ORIGIN } from '../doc/board.js';

/** The change log (`changedSince`) keeps at most this many refreshes... */
const LOG_REFRESHES = 256;
/** ...and this many ids in all (the latest refresh is always kept). */
const LOG_IDS = 50_000;

export class Scene {
  /**
   * @param {Y.Map<any>} elements the board's `elements` map
   * @param {() => void} onDirty called (once per batch) when something changed
   */
  constructor(elements, onDirty) {
    this._elements = elements;
    this._onDirty = onDirty;
    /** @type {Map<string, import('./element.js').El>} */
    this._byId = new Map();
    /** @type {import('./element.js').El[]} */
    this._ordered = [];
    this.version = 0;
    /**
     * Counts the document changes this page did not make (others' edits, undo, redo); its own
     * repairs (frame membership, orphaned connectors) are not counted.
     */
    this.othersVersion = 0;
    this._dirtyIds = new Set();
    /** The ids each recent refresh re-read, oldest first; `_logEnd` counts all refreshes. */
    this._log = [];
    this._logIds = 0;
    this._logEnd = 0;
    this._orderDirty = true;
    /** connector id -> the ids its two ends are bound to */
    this._bindsOf = new Map();
    /** element id -> ids of the connectors bound to it */
    this._boundTo = new Map();
    /**
     * Called after a refresh with connector patches ([id, {points, fields}]) for connectors
     * whose target disappeared without them being unbound (an undo, an older client): they keep
     * the ends they were drawn with. The page writes them (the renderer never writes).
     * @type {((patches: Array<[string, {points: number[], fields: Record<string, any>}]>) => void) | null}
     */
    this.onOrphaned = null;
    for (const id of elements.keys()) this._dirtyIds.add(id);
    elements.observeDeep((events) => this._onEvents(events));
  }

  /** Whether `refresh()` has work to do. */
  get dirty() {
    return this._dirtyIds.size > 0;
  }

  /** @returns {Map<string, import('./element.js').El>} the elements by id, as the document holds them */
  get byId() {
    this.refresh();
    return this._byId;
  }

  /** @returns {import('./element.js').El[]} the elements in paint order, as the document holds them */
  get ordered() {
    this.refresh();
    return this._ordered;
  }

  /**
   * Re-read the dirty elements and re-sort if needed. Returns true when the scene changed (the
   * frame loop compares `version` instead: a reader may have caught the scene up first).
   */
  refresh() {
    if (this._dirtyIds.size === 0) return false;
    for (const id of [...this._dirtyIds]) {
      for (const connector of this._boundTo.get(id) ?? []) this._dirtyIds.add(connector);
    }
    const orphaned = new Map();
    for (const id of this._dirtyIds) {
      if (this._elements.get(id) instanceof Y.Map || !this._byId.has(id)) continue;
      for (const connector of this._boundTo.get(id) ?? []) {
        const prev = this._byId.get(connector);
        if (prev?.routed) orphaned.set(connector, prev);
      }
    }
    const connectors = [];
    for (const id of this._dirtyIds) {
      const prev = this._byId.get(id);
      const el = readElement(id, this._elements.get(id));
      this._indexBindings(id, el);
      if (el === null) {
        if (prev) {
          this._byId.delete(id);
          this._orderDirty = true;
        }
        continue;
      }
      if (!prev || prev.z !== el.z) this._orderDirty = true;
      this._byId.set(id, el);
      if (el.type === 'arrow' || el.type === 'line') connectors.push(el);
    }
    this._record(this._dirtyIds);
    this._dirtyIds = new Set();
    for (const el of connectors) routeElement(el, this._byId);
    if (this._orderDirty) {
      this._ordered = [...this._byId.values()].sort(compareZ);
      this._orderDirty = false;
    } else {
      this._ordered = this._ordered.map((el) => this._byId.get(el.id));
    }
    this.version++;
    if (orphaned.size > 0 && this.onOrphaned) this.onOrphaned(orphanPatches(orphaned, this._byId));
    return true;
  }

  /** A position in the change log, for `changedSince` (after catching up with the document). */
  get changeCursor() {
    this.refresh();
    return this._logEnd;
  }

  /**
   * The sets of ids re-read by the refreshes since `cursor` (a `changeCursor`), oldest first,
   * after catching up; null when the log no longer reaches back that far.
   * @param {number} cursor
   * @returns {Array<Set<string>> | null}
   */
  changedSince(cursor) {
    this.refresh();
    const start = this._logEnd - this._log.length;
    return cursor < start ? null : this._log.slice(cursor - start);
  }

  _record(ids) {
    this._log.push(ids);
    this._logIds += ids.size;
    this._logEnd++;
    while (this._log.length > 1 && (this._log.length > LOG_REFRESHES || this._logIds > LOG_IDS)) {
      this._logIds -= this._log.shift().size;
    }
  }

  /** Ids of the connectors whose start or end is bound to element `id`. */
  connectorsOf(id) {
    return this._boundTo.get(id) ?? new Set();
  }

  _indexBindings(id, el) {
    for (const target of this._bindsOf.get(id) ?? []) this._boundTo.get(target)?.delete(id);
    this._bindsOf.delete(id);
    if (!el || (el.type !== 'arrow' && el.type !== 'line')) return;
    const targets = [el.startBindId, el.endBindId].filter(Boolean);
    if (targets.length === 0) return;
    this._bindsOf.set(id, targets);
    for (const target of targets) {
      if (!this._boundTo.has(target)) this._boundTo.set(target, new Set());
      this._boundTo.get(target).add(id);
    }
  }

  /** Elements whose bounds intersect `rect`, in paint order. */
  visible(rect) {
    const out = [];
    for (const el of this.ordered) if (inRect(el, rect)) out.push(el);
    return out;
  }

  /** Union of the bounds of all (or the given) elements; null when there are none. */
  contentBounds(ids = null) {
    let box = null;
    const list = ids ? [...ids].map((id) => this.byId.get(id)).filter(Boolean) : this.ordered;
    for (const el of list) {
      const b = el.bounds;
      if (!box) box = { ...b };
      else {
        box.minX = Math.min(box.minX, b.minX);
        box.minY = Math.min(box.minY, b.minY);
        box.maxX = Math.max(box.maxX, b.maxX);
        box.maxY = Math.max(box.maxY, b.maxY);
      }
    }
    return box;
  }

  _onEvents(events) {
    const origin = events.length > 0 ? events[0].transaction.origin : LOCAL_ORIGIN;
    if (origin !== LOCAL_ORIGIN && origin !== REPAIR_ORIGIN) this.othersVersion++;
    for (const event of events) {
      if (event.target === this._elements) {
        for (const key of event.changes.keys.keys()) this._dirtyIds.add(key);
      } else if (event.path.length > 0) {
        this._dirtyIds.add(String(event.path[0]));
      }
    }
    this._onDirty();
  }
}

/** Replace a connector's geometry by its route (world points, no rotation), if it has one. */
function routeElement(el, byId) {
  const route = routeArrow(el, (id) => byId.get(id));
  if (!route) return;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of route) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  el.storedX = el.x;
  el.storedY = el.y;
  el.x = minX;
  el.y = minY;
  el.w = maxX - minX;
  el.h = maxY - minY;
  el.angle = 0;
  el.points = route.flatMap(([x, y]) => [x - minX, y - minY]);
  el.routed = true;
  el.bounds = computeBounds(el);
}

/** Patches that leave connectors whose target is gone where they were last drawn, unbound. */
function orphanPatches(orphaned, byId) {
  const patches = [];
  for (const [id, prev] of orphaned) {
    const now = byId.get(id);
    if (!now) continue;
    const fields = {};
    for (const end of ['start', 'end']) {
      const target = now[`${end}BindId`];
      if (target && !byId.has(target)) fields[`${end}BindId`] = '';
    }
    if (Object.keys(fields).length === 0) continue;
    patches.push([id, { points: prev.points, fields: { x: prev.x, y: prev.y, w: prev.w, h: prev.h, angle: 0, ...fields } }]);
  }
  return patches;
}
