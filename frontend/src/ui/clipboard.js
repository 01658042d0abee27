/**
 * Copy, cut and paste of board content through the system clipboard (the page's `copy`, `cut` and
 * `paste` events, so Ctrl/Cmd+C, X, V and the browser's menu all take this one path).
 *
 * What a copy writes (format in frontend/README.md):
 * - `application/x-syncboard+json`: {type: "syncboard/clipboard", version: 1, origin, board,
 *   elements: [export form, in paint order]}: pasted into any board, also in another tab; a
 *   routed connector where it is drawn (ui/copies.js), so that its paste, bound to the pasted
 *   copies of its targets or free, lands where the original is drawn;
 * - `text/plain`: the texts of the selected notes and text elements (or a one-line summary);
 * - `text/html`: a PNG picture of the selection, for other apps (documents, chats, slides).
 *
 * A paste takes what the clipboard holds now, in this order: syncboard content, an image file,
 * plain text (a new text element). It lands at the pointer when the pointer is on the board, else
 * offset from the original (same board) or in the middle of the view, is selected, and is one
 * undo step. Inside a text field the browser's own copy and paste apply.
 */
import { drawElement, measureText } from '../render/shapes.js';
import { fileUrl } from '../sync/api.js';
import { isTextField } from '../input/keys.js';
import { toast } from './dom.js';
import { regroupCopies } from '../doc/groups.js';
import { copyFields } from './copies.js';

/** The clipboard type of syncboard content. */
export const CLIPBOARD_TYPE = 'application/x-syncboard+json';
const PAYLOAD_KIND = 'syncboard/clipboard';
/** Offset of a paste from its original on the same board, in board units. */
const PASTE_OFFSET = 16;
/** Longest side of the picture written for other apps, in pixels. */
const PICTURE_MAX_PX = 1600;
/** Most elements one paste may add (the server's caps apply anyway). */
const MAX_PASTED = 10000;
/** The start of what Excalidraw writes to the clipboard (or of a whole scene as text). */
const FOREIGN_SCENE = /^\s*\{\s*"type"\s*:\s*"excalidraw(\/clipboard)?"/;

/**
 * @param {{board: import('../doc/board.js').Board, scene: import('../render/scene.js').Scene,
 *          camera: import('../view/camera.js').Camera, boardId: string,
 *          selection: Set<string>, setSelection: (ids: Iterable<string>) => void,
 *          pointer: () => ({x: number, y: number} | null),
 *          placeImage: (file: File, at: {x: number, y: number}) => void,
 *          uploadFile: (blob: Blob) => Promise<string>,
 *          image: (fileId: string) => (CanvasImageSource | null),
 *          importFile?: (file: Blob) => void,
 *          attach?: ReturnType<typeof import('../tools/attach.js').createAttachments>}} app
 *   uploadFile stores bytes on this board's server and resolves to their fileId; importFile
 *   imports a board file (ui/interchange.js): Excalidraw puts its copies on the clipboard as
 *   scene JSON in text/plain, which is pasted through it.
 * @returns {{pasteLast: () => void}} paste what this tab copied last (the context menu)
 */
export function attachClipboard(app) {
  let pastedFromSameCopy = 0;
  let lastCopy = '';

  document.addEventListener('copy', (event) => {
    if (isTextField(event.target) || app.selection.size === 0) return;
    lastCopy = writeSelection(event.clipboardData);
    pastedFromSameCopy = 0;
    event.preventDefault();
  });

  document.addEventListener('cut', (event) => {
    if (isTextField(event.target) || app.selection.size === 0 || app.board.readOnly) return;
    lastCopy = writeSelection(event.clipboardData);
    pastedFromSameCopy = 0;
    app.board.remove([...app.selection]);
    app.setSelection([]);
    event.preventDefault();
  });

  document.addEventListener('paste', (event) => {
    if (isTextField(event.target) || app.board.readOnly || !event.clipboardData) return;
    event.preventDefault();
    const data = event.clipboardData;
    const payload = readPayload(data.getData(CLIPBOARD_TYPE));
    if (payload) {
      pasteElements(payload, data.getData(CLIPBOARD_TYPE));
      return;
    }
    const file = [...data.files].find((f) => f.type.startsWith('image/'));
    if (file) {
      app.placeImage(file, landingPoint(null));
      return;
    }
    const text = data.getData('text/plain');
    if (app.importFile && FOREIGN_SCENE.test(text.slice(0, 200))) {
      app.importFile(new Blob([text], { type: 'application/json' })); // Excalidraw's copy
      return;
    }
    if (text.trim()) pasteText(text);
  });

  return { pasteLast };

  /** Write the selection in every format; returns the syncboard payload's text. */
  function writeSelection(clipboard) {
    const ids = app.scene.ordered.filter((el) => app.selection.has(el.id)).map((el) => el.id);
    const elements = ids.filter((id) => app.board.get(id))
      .map((id) => ({ id, ...copyFields(app.board.get(id), app.scene.byId.get(id)) }))
      .filter((el) => el.type);
    const text = JSON.stringify({
      type: PAYLOAD_KIND, version: 1, origin: location.origin, board: app.boardId, elements,
    });
    clipboard.setData(CLIPBOARD_TYPE, text);
    const texts = elements.map((el) => (typeof el.text === 'string' ? el.text : '')).filter(Boolean);
    clipboard.setData('text/plain', texts.length ? texts.join('\n\n')
      : `${elements.length} syncboard element${elements.length === 1 ? '' : 's'}`);
    const picture = selectionPicture(ids);
    if (picture) clipboard.setData('text/html', `<img src="${picture}" alt="syncboard selection">`);
    return text;
  }

  async function pasteElements(payload, raw) {
    const source = payload.elements.slice(0, MAX_PASTED);
    const box = boundsOf(source);
    if (!box) return;
    if (!(await filesAvailable(source, payload.origin))) {
      toast('Some images of this paste are not on this server: they are left out', 'error');
    }
    const at = landingPoint(payload.board === app.boardId && raw === lastCopy ? box : null);
    const dx = at.x - (box.minX + box.maxX) / 2;
    const dy = at.y - (box.minY + box.maxY) / 2;
    const kept = source.filter((el) => el.type !== 'image' || el.available !== false);
    const items = regroupCopies(kept.map((el) => {
      const { id: _id, z: _z, createdBy: _by, available: _a, ...fields } = el;
      return { ...fields, x: (Number(el.x) || 0) + dx, y: (Number(el.y) || 0) + dy };
    }));
    app.board.beginGesture();
    try {
      const ids = app.board.createMany(items);
      app.attach?.copied(kept.map((el) => el.id), ids); // connectors bound to the copies
      app.setSelection(ids);
    } finally {
      app.board.endGesture();
    }
  }

  /**
   * Paste what this tab copied or cut last (the context menu's Paste: a page cannot read the
   * system clipboard's syncboard content on request, only in a paste event).
   */
  function pasteLast() {
    const payload = readPayload(lastCopy);
    if (payload && !app.board.readOnly) pasteElements(payload, lastCopy);
  }

  function pasteText(text) {
    const clipped = text.slice(0, 20000);
    const fontSize = 20;
    const size = measureText(clipped, fontSize);
    const at = landingPoint(null);
    const id = app.board.create('text', {
      x: at.x - size.w / 2, y: at.y - size.h / 2, w: size.w, h: size.h, angle: 0, text: clipped,
      fontSize, align: 'left',
    });
    app.setSelection([id]);
  }

  /**
   * Where a paste is centred: the pointer when it is on the board; else, for a copy of this
   * board (`original` its bounds), offset from the original a little more each time; else the
   * middle of the view.
   */
  function landingPoint(original) {
    const pointer = app.pointer();
    if (pointer) return pointer;
    if (original) {
      pastedFromSameCopy++;
      const shift = PASTE_OFFSET * pastedFromSameCopy;
      return { x: (original.minX + original.maxX) / 2 + shift, y: (original.minY + original.maxY) / 2 + shift };
    }
    return app.camera.toWorld(app.camera.width / 2, app.camera.height / 2);
  }

  /**
   * Images are referenced by the SHA-256 of their bytes, served to any board of the server that
   * has them. Marks elements whose file this server lacks (`available: false`) after trying to
   * copy the bytes over from the server they came from; resolves false when any is missing.
   */
  async function filesAvailable(elements, origin) {
    const images = elements.filter((el) => el.type === 'image' && typeof el.fileId === 'string');
    const results = await Promise.all(images.map(async (el) => {
      if ((await fetch(fileUrl(el.fileId), { method: 'HEAD' })).ok) return true;
      if (origin && origin !== location.origin) {
        try {
          const bytes = await fetch(`${origin}${fileUrl(el.fileId)}`);
          if (bytes.ok && (await app.uploadFile(await bytes.blob())) === el.fileId) return true;
        } catch {
          // The other server does not share its files with this page (CORS): left out below.
        }
      }
      el.available = false;
      return false;
    }));
    return results.every(Boolean);
  }

  /** A PNG data URL of the selected elements on white, or '' when there is nothing to draw. */
  function selectionPicture(ids) {
    const box = app.scene.contentBounds(ids);
    if (!box) return '';
    const pad = 16;
    const width = box.maxX - box.minX + 2 * pad;
    const height = box.maxY - box.minY + 2 * pad;
    const scale = Math.min(2, PICTURE_MAX_PX / Math.max(width, height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.ceil(width * scale));
    canvas.height = Math.max(1, Math.ceil(height * scale));
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(scale, 0, 0, scale, -(box.minX - pad) * scale, -(box.minY - pad) * scale);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const wanted = new Set(ids);
    for (const el of app.scene.ordered) {
      if (!wanted.has(el.id)) continue;
      try {
        drawElement(ctx, el, { image: app.image, zoom: scale, editingId: null });
      } catch {
        // An element that cannot be drawn is left out of the picture, as on the canvas.
      }
    }
    return canvas.toDataURL('image/png');
  }
}

/** The syncboard payload in `text`, or null when it is not one (anything else is ignored). */
export function readPayload(text) {
  if (!text) return null;
  try {
    const payload = JSON.parse(text);
    if (payload?.type !== PAYLOAD_KIND || !Array.isArray(payload.elements)) return null;
    const elements = payload.elements.filter((el) => el && typeof el === 'object' && typeof el.type === 'string');
    return { origin: String(payload.origin ?? ''), board: String(payload.board ?? ''), elements };
  } catch {
    return null;
  }
}

/**
 * Union of the elements' frames (x, y, w, h; for lines and strokes their points, since a
 * connector as drawn has its origin at its first point, not at the top-left), or null.
 */
function boundsOf(elements) {
  let box = null;
  for (const el of elements) {
    const x = Number(el.x) || 0;
    const y = Number(el.y) || 0;
    const xs = [];
    const ys = [];
    if (Array.isArray(el.points)) {
      for (let i = 0; i + 1 < el.points.length; i += 2) {
        xs.push(x + (Number(el.points[i]) || 0));
        ys.push(y + (Number(el.points[i + 1]) || 0));
      }
    }
    if (xs.length === 0) {
      xs.push(x, x + (Number(el.w) || 0));
      ys.push(y, y + (Number(el.h) || 0));
    }
    const b = { minX: Math.min(...xs), minY: Math.min(...ys), maxX: Math.max(...xs), maxY: Math.max(...ys) };
    box = box ? {
      minX: Math.min(box.minX, b.minX), minY: Math.min(box.minY, b.minY),
      maxX: Math.max(box.maxX, b.maxX), maxY: Math.max(box.maxY, b.maxY),
    } : b;
  }
  return box;
}
