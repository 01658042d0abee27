/**
 * Scene: plain, validated copies of the board's elements in paint order (z, id), refreshed once per
 * frame from the ids the document observer marked dirty. Painters and hit tests read the scene,
 * never the Y.Doc. `version` is the change counter painters memoize on.
 */
import * as Y from 'yjs';
import { readElement } from './element.js';
import { compareZ } from '../doc/zorder.js';

export class Scene {
  /**
   * @param {Y.Map<any>} elements the board's `elements` map
   * @param {() => void} onDirty called (once per batch) when something changed
   */
  constructor(elements, onDirty) {
    this._elements = elements;
    this._onDirty = onDirty;
    /** @type {Map<string, import('./element.js').El>} */
    this.byId = new Map();
    /** @type {import('./element.js').El[]} elements in paint order */
    this.ordered = [];
    this.version = 0;
    this._dirtyIds = new Set();
    this._orderDirty = true;
    for (const id of elements.keys()) this._dirtyIds.add(id);
    elements.observeDeep((events) => this._onEvents(events));
  }

  /** Whether `refresh()` has work to do. */
  get dirty() {
    return this._dirtyIds.size > 0;
  }

  /**
   * Re-read the dirty elements and re-sort if needed. Returns true when the scene changed.
   */
  refresh() {
    if (this._dirtyIds.size === 0) return false;
    for (const id of this._dirtyIds) {
      const prev = this.byId.get(id);
      const el = readElement(id, this._elements.get(id));
      if (el === null) {
        if (prev) {
          this.byId.delete(id);
          this._orderDirty = true;
        }
        continue;
      }
      if (!prev || prev.z !== el.z) this._orderDirty = true;
      this.byId.set(id, el);
    }
    this._dirtyIds.clear();
    if (this._orderDirty) {
      this.ordered = [...this.byId.values()].sort(compareZ);
      this._orderDirty = false;
    } else {
      this.ordered = this.ordered.map((el) => this.byId.get(el.id));
    }
    this.version++;
    return true;
  }

  /** Elements whose bounds intersect `rect`, in paint order. */
  visible(rect) {
    const out = [];
    for (const el of this.ordered) {
      const b = el.bounds;
      if (b.maxX >= rect.minX && b.minX <= rect.maxX && b.maxY >= rect.minY && b.minY <= rect.maxY) {
        out.push(el);
      }
    }
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
