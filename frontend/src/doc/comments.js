/**
 * Comments: the writer and tolerant reader of `doc.getMap("comments")` (issue 20; layout in
 * shared/BOARD.md, fields, defaults and caps in the `thread` and `message` definitions of
 * shared/board.schema.json). A thread is a Y.Map pinned to a board point or to an element
 * (then it follows the element); its `messages` are a Y.Array of Y.Maps whose `text` is a
 * Y.Text, so two people replying at once both land. Comments stay out of the undo history:
 * undoing a drawing never takes back what someone wrote.
 */
import * as Y from 'yjs';
import schema from '../../../shared/board.schema.json' with { type: 'json' };
import { newId } from './ids.js';
import { frameOf } from '../render/element.js';

/** Transaction origin of comment writes (not tracked by the board's UndoManager). */
export const COMMENTS_ORIGIN = 'syncboard-comments';
const THREAD = schema.$defs.thread.properties;
const MESSAGE = schema.$defs.message.properties;
const ID_RE = new RegExp(THREAD.id.pattern);

/**
 * @typedef {object} Message
 * @property {string} id
 * @property {string} author
 * @property {number} at
 * @property {string} text
 * @property {number} edited
 * @property {boolean} deleted
 *
 * @typedef {object} Thread
 * @property {string} id
 * @property {number} x
 * @property {number} y
 * @property {string} elementId
 * @property {number} anchorX
 * @property {number} anchorY
 * @property {boolean} resolved
 * @property {string} createdBy
 * @property {number} createdAt
 * @property {Message[]} messages
 */

export class Comments {
  /**
   * @param {Y.Doc} doc
   * @param {{author: () => string, canWrite: () => boolean}} opts canWrite: whether this page
   *   may write comments now (an edit link, or a view link while meta.commentsForViewers)
   */
  constructor(doc, { author, canWrite }) {
    this.doc = doc;
    this.map = doc.getMap('comments');
    this.meta = doc.getMap('meta');
    this._author = author;
    this.canWrite = canWrite;
    /** `threads()` until the next change: pins are placed from it on every frame of a pan. */
    this._threads = null;
    this.map.observeDeep(() => { this._threads = null; });
  }

  /** Whether view-only links may write comments (meta.commentsForViewers). */
  viewersMayComment() {
    return this.meta.get('commentsForViewers') === true;
  }

  /** Let view-only links write comments, or not (an edit link's setting). */
  setViewersMayComment(on) {
    this._transact(() => this.meta.set('commentsForViewers', Boolean(on)));
  }

  /** @returns {Thread[]} every readable thread, oldest first (shared: do not change it). */
  threads() {
    if (this._threads) return this._threads;
    const out = [];
    for (const [id, value] of this.map.entries()) {
      if (value instanceof Y.Map && ID_RE.test(id)) out.push(readThread(id, value));
    }
    this._threads = out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    return this._threads;
  }

  /** @returns {Thread | null} */
  thread(id) {
    const value = this.map.get(id);
    return value instanceof Y.Map ? readThread(id, value) : null;
  }

  /**
   * Open a thread with its first message; returns its id (null when this page may not write).
   * @param {{x: number, y: number, elementId?: string, anchorX?: number, anchorY?: number}} pin
   */
  create(pin, text) {
    if (!this.canWrite() || !cut(text)) return null;
    const id = newId();
    this._transact(() => {
      const thread = new Y.Map();
      const now = Date.now();
      for (const [key, value] of Object.entries({
        x: pin.x, y: pin.y, elementId: pin.elementId ?? '', anchorX: pin.anchorX ?? 0.5,
        anchorY: pin.anchorY ?? 0.5, resolved: false, createdBy: this._author(), createdAt: now,
      })) thread.set(key, value);
      thread.set('messages', Y.Array.from([this._message(text, now)]));
      this.map.set(id, thread);
    });
    return id;
  }

  /** Add a message to a thread. */
  reply(threadId, text) {
    const messages = this._messages(threadId);
    if (!messages || !cut(text)) return;
    this._transact(() => messages.push([this._message(text, Date.now())]));
  }

  /** Resolve (true) or reopen (false) a thread. */
  setResolved(threadId, resolved) {
    const thread = this.map.get(threadId);
    if (thread instanceof Y.Map) this._transact(() => thread.set('resolved', resolved));
  }

  /** Replace the text of a message (marked edited). */
  edit(threadId, messageId, text) {
    const message = this._find(threadId, messageId);
    const value = cut(text);
    if (!message || !value) return;
    this._transact(() => {
      const ytext = message.get('text');
      if (ytext instanceof Y.Text) {
        ytext.delete(0, ytext.length);
        ytext.insert(0, value);
      } else message.set('text', new Y.Text(value));
      message.set('edited', Date.now());
    });
  }

  /** Delete a message: its text is emptied and it shows as deleted. */
  remove(threadId, messageId) {
    const message = this._find(threadId, messageId);
    if (!message) return;
    this._transact(() => {
      const ytext = message.get('text');
      if (ytext instanceof Y.Text) ytext.delete(0, ytext.length);
      message.set('deleted', true);
    });
  }

  /** Write the `comments` of a JSON export form (import), one transaction. */
  importThreads(threads = []) {
    this._transact(() => {
      for (const { id, messages = [], ...fields } of threads) {
        const thread = new Y.Map();
        for (const [key, value] of Object.entries(fields)) thread.set(key, value);
        thread.set('messages', Y.Array.from(messages.map((m) => {
          const message = new Y.Map();
          for (const [key, value] of Object.entries(m)) message.set(key, key === 'text' ? new Y.Text(String(value)) : value);
          return message;
        })));
        this.map.set(id, thread);
      }
    });
  }

  _message(text, at) {
    const message = new Y.Map();
    message.set('id', newId());
    message.set('author', this._author());
    message.set('at', at);
    message.set('text', new Y.Text(cut(text)));
    message.set('edited', 0);
    message.set('deleted', false);
    return message;
  }

  _messages(threadId) {
    const thread = this.map.get(threadId);
    const messages = thread instanceof Y.Map ? thread.get('messages') : null;
    return messages instanceof Y.Array ? messages : null;
  }

  _find(threadId, messageId) {
    const messages = this._messages(threadId);
    return messages?.toArray().find((m) => m instanceof Y.Map && m.get('id') === messageId) ?? null;
  }

  _transact(fn) {
    if (this.canWrite()) this.doc.transact(fn, COMMENTS_ORIGIN);
  }
}

/**
 * Where a thread's pin is on the board: on its element (anchor in the element's unrotated
 * frame, turned with it) while the element exists, else at its own point.
 * @param {Thread} thread
 * @param {import('../render/scene.js').Scene} scene
 */
export function pinPoint(thread, scene) {
  const el = thread.elementId ? scene.byId.get(thread.elementId) : null;
  if (!el) return { x: thread.x, y: thread.y };
  const f = frameOf(el);
  const px = f.x + thread.anchorX * f.w;
  const py = f.y + thread.anchorY * f.h;
  if (!el.angle) return { x: px, y: py };
  const cx = f.x + f.w / 2;
  const cy = f.y + f.h / 2;
  const cos = Math.cos(el.angle);
  const sin = Math.sin(el.angle);
  return { x: cx + (px - cx) * cos - (py - cy) * sin, y: cy + (px - cx) * sin + (py - cy) * cos };
}

/**
 * The pin for a click at world (x, y) on element `el` (or on the board when null).
 * @returns {{x: number, y: number, elementId: string, anchorX: number, anchorY: number}}
 */
export function pinAt(x, y, el) {
  if (!el) return { x, y, elementId: '', anchorX: 0.5, anchorY: 0.5 };
  const f = frameOf(el);
  let px = x;
  let py = y;
  if (el.angle) { // into the element's unrotated frame
    const cx = f.x + f.w / 2;
    const cy = f.y + f.h / 2;
    const cos = Math.cos(-el.angle);
    const sin = Math.sin(-el.angle);
    px = cx + (x - cx) * cos - (y - cy) * sin;
    py = cy + (x - cx) * sin + (y - cy) * cos;
  }
  const norm = (v, start, size) => (size > 0 ? Math.min(1, Math.max(0, (v - start) / size)) : 0.5);
  return { x, y, elementId: el.id, anchorX: norm(px, f.x, f.w), anchorY: norm(py, f.y, f.h) };
}

function readThread(id, ymap) {
  const messages = ymap.get('messages');
  const list = messages instanceof Y.Array ? messages.toArray().filter((m) => m instanceof Y.Map) : [];
  return {
    id,
    x: num(ymap.get('x'), THREAD.x),
    y: num(ymap.get('y'), THREAD.y),
    elementId: str(ymap.get('elementId'), THREAD.elementId),
    anchorX: num(ymap.get('anchorX'), THREAD.anchorX),
    anchorY: num(ymap.get('anchorY'), THREAD.anchorY),
    resolved: bool(ymap.get('resolved'), THREAD.resolved),
    createdBy: str(ymap.get('createdBy'), THREAD.createdBy),
    createdAt: num(ymap.get('createdAt'), THREAD.createdAt),
    messages: list.slice(0, THREAD.messages.maxItems).map((m) => ({
      id: str(m.get('id'), MESSAGE.id),
      author: str(m.get('author'), MESSAGE.author),
      at: num(m.get('at'), MESSAGE.at),
      text: str(textOf(m.get('text')), MESSAGE.text),
      edited: num(m.get('edited'), MESSAGE.edited),
      deleted: bool(m.get('deleted'), MESSAGE.deleted),
    })),
  };
}

function textOf(value) {
  return value instanceof Y.Text ? value.toString() : value;
}

function cut(text) {
  return String(text ?? '').trim().slice(0, MESSAGE.text.maxLength);
}

function num(value, rule) {
  const min = rule.minimum ?? -Infinity;
  const max = rule.maximum ?? Infinity;
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : (rule.default ?? 0);
}

function str(value, rule) {
  if (typeof value !== 'string') return rule.default ?? '';
  if (rule.pattern && !new RegExp(rule.pattern).test(value)) return rule.default ?? '';
  return rule.maxLength ? value.slice(0, rule.maxLength) : value;
}

function bool(value, rule) {
  return typeof value === 'boolean' ? value : Boolean(rule.default);
}
