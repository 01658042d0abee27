/**
 * In-place text editing of a text element or sticky note, or of a shape's or connector's label
 * (field `label`, laid over the label's box from render/labels.js): a <textarea> over the element.
 * Each keystroke becomes a minimal Y.Text edit (Board.setText), and remote edits to the same text
 * are merged into the textarea with the caret kept in place, so two people can type in one note.
 *
 * One lifecycle: `open()` starts a text-editing session (one undo step, the creation of a new
 * element included); it ends with `close()`, which commits what was typed, whatever ends it:
 * Escape or Ctrl+Enter, the textarea losing focus, a press on the board, a tool change, or the
 * element being deleted by someone else.
 */
import { LOCAL_ORIGIN } from '../doc/board.js';
import { measureText, FONT_FAMILY } from '../render/shapes.js';
import { isConnector, labelBox, polylineMiddle } from '../render/labels.js';
import { h } from './dom.js';
import { isDark } from './theme.js';
import { darkColor } from '../render/palette.js';

const STICKY_PADDING = 14;

export class TextEditor {
  /**
   * @param {HTMLElement} container positioned parent of the board canvases
   * @param {{board: import('../doc/board.js').Board, scene: import('../render/scene.js').Scene,
   *          camera: import('../view/camera.js').Camera, requestFrame: () => void}} app
   */
  constructor(container, app) {
    this._app = app;
    this.textarea = h('textarea.text-editor', { spellcheck: 'false', 'aria-label': 'Edit text' });
    this.textarea.hidden = true;
    container.append(this.textarea);
    /** Id of the element being edited, or null. */
    this.editingId = null;
    this._removeIfEmpty = false;
    /** The Y.Text field being edited: `text` or `label`. */
    this._field = 'text';
    this._unobserve = null;
    this.textarea.addEventListener('input', () => this._onInput());
    this.textarea.addEventListener('blur', () => this.close());
    this.textarea.addEventListener('keydown', (event) => {
      event.stopPropagation();
      if (event.key === 'Escape' || (event.key === 'Enter' && (event.ctrlKey || event.metaKey))) {
        event.preventDefault();
        this.textarea.blur();
      }
    });
  }

  /** Start editing element `id` (its `field`: `text`, or `label` of a shape or connector). */
  open(id, { removeIfEmpty = false, field = 'text' } = {}) {
    if (this.editingId) this.close();
    if (this._app.board.readOnly) return; // a viewer's typing could only be thrown away
    if (field === 'label') this._app.board.ensureText(id, 'label');
    this._field = field;
    const ytext = this._app.board.get(id)?.get(field);
    if (!ytext || typeof ytext.observe !== 'function') return;
    this._app.scene.refresh();
    this._app.board.beginGesture();
    this.editingId = id;
    this._removeIfEmpty = removeIfEmpty;
    this.textarea.value = ytext.toString();
    const onRemote = (event, transaction) => {
      if (transaction.origin !== LOCAL_ORIGIN) this._mergeRemote(event.delta);
    };
    ytext.observe(onRemote);
    this._unobserve = () => ytext.unobserve(onRemote);
    this.textarea.hidden = false;
    this.reposition();
    this.textarea.focus();
    this.textarea.setSelectionRange(this.textarea.value.length, this.textarea.value.length);
    this._app.requestFrame();
  }

  /** Stop editing; an empty new text element is removed. */
  close() {
    const id = this.editingId;
    if (!id) return;
    this.editingId = null;
    this._unobserve?.();
    this._unobserve = null;
    this.textarea.hidden = true;
    const el = this._app.scene.byId.get(id);
    if (this._removeIfEmpty && el?.type === 'text' && this.textarea.value.trim() === '') {
      this._app.board.remove([id]);
    }
    this._app.board.endGesture();
    if (document.activeElement === this.textarea) this.textarea.blur();
    this._app.requestFrame();
  }

  /** Follow the element on screen (call after camera or element changes). */
  reposition() {
    if (!this.editingId) return;
    const el = this._app.scene.byId.get(this.editingId);
    if (!el) {
      this.close();
      return;
    }
    if (this._field === 'label') {
      this._placeOverLabel(el);
      return;
    }
    const { camera } = this._app;
    const zoom = camera.zoom;
    const s = camera.toScreen(el.x, el.y);
    const style = this.textarea.style;
    const sticky = el.type === 'sticky';
    const pad = sticky ? STICKY_PADDING * zoom : 0;
    const natural = measureText(this.textarea.value || ' ', el.fontSize);
    const w = sticky ? el.w : Math.max(natural.w + el.fontSize, 40);
    const hgt = sticky ? el.h : natural.h + 4;
    style.left = `${s.x}px`;
    style.top = `${s.y}px`;
    style.width = `${w * zoom}px`;
    style.height = `${hgt * zoom}px`;
    style.padding = `${pad}px`;
    style.font = `${el.fontSize * zoom}px/${1.25} ${FONT_FAMILY}`;
    style.color = isDark() ? darkColor(el.stroke) : el.stroke;
    style.textAlign = el.align;
    style.transform = el.angle ? `rotate(${el.angle}rad)` : '';
    style.transformOrigin = `${(el.w * zoom) / 2}px ${(el.h * zoom) / 2}px`;
  }

  /** Lay the textarea over where the label is drawn (its lines centred on the shape). */
  _placeOverLabel(el) {
    const { camera } = this._app;
    const zoom = camera.zoom;
    const lines = Math.max(1, this.textarea.value.split('\n').length);
    const natural = measureText(this.textarea.value || ' ', el.fontSize);
    let box;
    let origin;
    if (isConnector(el)) {
      const mid = polylineMiddle(el);
      const w = Math.max(natural.w + el.fontSize, 60);
      box = { x: mid.x - w / 2, y: mid.y - natural.h / 2, w, h: natural.h };
      origin = { x: w / 2, y: natural.h / 2 };
    } else {
      const inner = labelBox(el);
      const w = Math.max(inner.w, 40);
      const hgt = Math.max(natural.h, lines * el.fontSize * 1.25) + 4;
      box = { x: inner.x + (inner.w - w) / 2, y: el.y + el.h / 2 - hgt / 2, w, h: hgt };
      origin = { x: el.x + el.w / 2 - box.x, y: el.y + el.h / 2 - box.y };
    }
    const s = camera.toScreen(box.x, box.y);
    const style = this.textarea.style;
    style.left = `${s.x}px`;
    style.top = `${s.y}px`;
    style.width = `${box.w * zoom}px`;
    style.height = `${box.h * zoom}px`;
    style.padding = '0px';
    style.font = `${el.fontSize * zoom}px/${1.25} ${FONT_FAMILY}`;
    style.color = isDark() ? darkColor(el.stroke) : el.stroke;
    style.textAlign = isConnector(el) ? 'center' : el.align;
    style.transform = el.angle ? `rotate(${el.angle}rad)` : '';
    style.transformOrigin = `${origin.x * zoom}px ${origin.y * zoom}px`;
  }

  _onInput() {
    const id = this.editingId;
    if (!id) return;
    const el = this._app.scene.byId.get(id);
    this._app.board.setText(id, this.textarea.value, this._field);
    if (this._field === 'label') this.reposition();
    if (el?.type === 'text') {
      const size = measureText(this.textarea.value || ' ', el.fontSize);
      this._app.board.update([[id, { w: size.w, h: size.h }]]);
    }
    this._app.requestFrame();
  }

  _mergeRemote(delta) {
    const ta = this.textarea;
    let start = ta.selectionStart;
    let end = ta.selectionEnd;
    let index = 0;
    for (const op of delta) {
      if (op.retain) index += op.retain;
      else if (op.insert) {
        const len = typeof op.insert === 'string' ? op.insert.length : 1;
        if (index <= start) start += len;
        if (index < end) end += len;
        index += len;
      } else if (op.delete) {
        start = shiftForDelete(start, index, op.delete);
        end = shiftForDelete(end, index, op.delete);
      }
    }
    ta.value = this._app.board.get(this.editingId)?.get(this._field)?.toString() ?? ta.value;
    ta.setSelectionRange(start, end);
    this.reposition();
  }
}

function shiftForDelete(pos, index, len) {
  if (pos <= index) return pos;
  return Math.max(index, pos - len);
}
