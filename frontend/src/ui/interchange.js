/**
 * Boards in and out from the page (issue 15): import any file the server reads (syncboard JSON
 * or bundle, .excalidraw, .excalidraw.png/.svg with the scene embedded, .tldr: told apart by
 * content) from the menu or by dropping it on the board, as one undo step; and the export
 * panel: the board, the selection or a frame, as PNG (1×, 2×, 3×, with the background or
 * transparent), SVG, PDF, JSON, bundle or Excalidraw, to a file or, for PNG and SVG, to the
 * clipboard.
 *
 * The server does the reading (POST import?convert=1 stores the images and answers with the board
 * in the export form); this module writes it through the page's own document, so Ctrl+Z undoes
 * the whole import. Every file is the server exporter's (PNG at the chosen scale, as for the
 * board), in every format: a selection's holds the selected elements alone, however many (their
 * ids posted as `{"ids": [...]}`), a frame's the frame and what it holds (`frame=`), so nothing
 * else overlapping their box comes along; a selection's or frame's bundle carries only the images
 * it shows.
 */
import { keysAbove } from '../doc/zorder.js';
import { convertImport, fetchExport, saveBlob } from '../sync/api.js';
import { h, toast } from './dom.js';
import { carriesScene } from './scenefile.js';

/** Margin around a selection's exported picture, in board units. */
const SELECTION_MARGIN = 16;
const SCALES = [1, 2, 3];
const FORMATS = ['png', 'svg', 'pdf', 'json', 'bundle', 'excalidraw'];
/** Formats that are pictures: drawn in a region (a selection's box); the others are data. */
const PICTURES = new Set(['png', 'svg', 'pdf']);
/** What the import menu's file picker offers (any file is read by content anyway; a PNG or
 * SVG only when it carries an Excalidraw scene). */
export const IMPORT_ACCEPT = 'application/json,.json,.excalidraw,.tldr,.png,.svg';

/**
 * @param {{stage: HTMLElement, board: import('../doc/board.js').Board,
 *          scene: import('../render/scene.js').Scene, boardId: string, token: string,
 *          selection: Set<string>, setSelection: (ids: Iterable<string>) => void,
 *          importComments: (threads: object[]) => void}} app
 * @returns {{importFile: (file: File) => Promise<void>, openExport: () => void, el: HTMLElement}}
 */
export function installInterchange(app) {
  app.stage.addEventListener('drop', async (event) => {
    const files = [...(event.dataTransfer?.files ?? [])];
    const file = files.find((f) => !f.type.startsWith('image/'));
    if (file) {
      event.preventDefault();
      importFile(file);
      return;
    }
    // Images are placed by ui/imageplace.js, unless they carry an Excalidraw scene.
    const picture = files.find((f) => f.type.startsWith('image/'));
    if (picture && await carriesScene(picture)) importFile(picture);
  });

  /** Import a file of any kind the server reads, as one undo step of this user. */
  async function importFile(file) {
    if (app.board.readOnly) return;
    try {
      const answer = await convertImport(app.boardId, file, app.token);
      if (answer.kind === 'excalidraw' || answer.kind === 'tldraw') {
        // Another app's drawing goes on top of what the board holds, in its own paint order
        // (a syncboard file or bundle keeps its keys: it is this board's own form).
        const keys = keysAbove(app.board.topZ(), answer.board.elements.length);
        answer.board.elements.forEach((el, index) => { el.z = keys[index]; });
      }
      app.board.importBoard(answer.board);
      if (answer.board.comments) app.importComments(answer.board.comments);
      app.setSelection(answer.board.elements.map((el) => el.id));
      const count = answer.board.elements.length;
      const said = answer.kind === 'syncboard' ? `Imported ${count} element${count === 1 ? '' : 's'}`
        : capitalised(answer.report);
      toast(`${said} (Ctrl+Z undoes it)`);
    } catch (error) {
      toast(String(error.message || error), 'error');
    }
  }

  const scope = h('select', { 'aria-label': 'What to export' });
  const format = h('select', { 'aria-label': 'Format' },
    FORMATS.map((f) => h('option', { value: f }, [f === 'bundle' ? 'Bundle (with images)' : f.toUpperCase()])));
  const scale = h('select', { 'aria-label': 'Scale' }, SCALES.map((s) => h('option', { value: String(s) }, [`${s}×`])));
  const transparent = h('input', { type: 'checkbox', 'aria-label': 'Transparent background' });
  const el = h('div.export-panel.panel', { hidden: true, role: 'dialog', 'aria-label': 'Export' }, [
    h('label', {}, ['Export ', scope]),
    h('label', {}, ['as ', format]),
    h('label', {}, ['scale ', scale]),
    h('label', {}, [transparent, ' transparent']),
    h('div.export-actions', {}, [
      h('button', { type: 'button', onclick: () => run(download) }, ['Download']),
      h('button', { type: 'button', onclick: () => run(copyPng) }, ['Copy as PNG']),
      h('button', { type: 'button', onclick: () => run(copySvg) }, ['Copy as SVG']),
      h('button', { type: 'button', onclick: () => { el.hidden = true; } }, ['Close']),
    ]),
  ]);
  el.addEventListener('keydown', (event) => {
    event.stopPropagation(); // the board's shortcuts stay out of the panel
    if (event.key === 'Escape') el.hidden = true;
  });

  /** Show the panel, offering the selection, and the frame when one frame is selected. */
  function openExport() {
    const frame = selectedFrame();
    scope.replaceChildren(...[
      h('option', { value: 'board' }, ['the board']),
      app.selection.size ? h('option', { value: 'selection' }, ['the selection']) : null,
      frame ? h('option', { value: 'frame' }, [`frame “${frame.name ?? 'Frame'}”`]) : null,
    ].filter(Boolean));
    scope.value = frame ? 'frame' : app.selection.size ? 'selection' : 'board';
    el.hidden = false;
    format.focus();
  }

  function selectedFrame() {
    if (app.selection.size !== 1) return null;
    const el = app.scene.byId.get([...app.selection][0]);
    return el && el.type === 'frame' ? el : null;
  }

  async function run(action) {
    try {
      await action();
    } catch (error) {
      toast(String(error.message || error), 'error');
    }
  }

  /** Query for the server exporter: a frame, a selection's box (pictures), scale, background. */
  function query(fmt) {
    const q = { background: transparent.checked ? 'transparent' : undefined };
    if (fmt === 'png') q.scale = scale.value;
    const frame = scope.value === 'frame' ? selectedFrame() : null;
    if (frame) q.frame = frame.id;
    if (scope.value === 'selection' && PICTURES.has(fmt)) {
      const box = selectionBox();
      if (!box) throw new Error('Nothing is selected');
      q.region = [box.x, box.y, box.w, box.h].join(',');
    }
    return q;
  }

  function selectionBox() {
    const b = app.scene.contentBounds([...app.selection]);
    if (!b) return null;
    return { x: b.minX - SELECTION_MARGIN, y: b.minY - SELECTION_MARGIN,
      w: b.maxX - b.minX + 2 * SELECTION_MARGIN, h: b.maxY - b.minY + 2 * SELECTION_MARGIN };
  }

  /** The server exporter's file; a selection's ids go in the request's body (any number). */
  async function exportFile(fmt) {
    if (scope.value === 'selection' && !app.selection.size) throw new Error('Nothing is selected');
    const ids = scope.value === 'selection' ? app.selection : null;
    return fetchExport(app.boardId, fmt, app.token, query(fmt), ids);
  }

  async function download() {
    const fmt = format.value;
    const ext = { bundle: 'syncboard.json', excalidraw: 'excalidraw' }[fmt] ?? fmt;
    const part = scope.value === 'board' ? '' : `-${scope.value}`;
    saveBlob(await exportFile(fmt), `board-${app.boardId}${part}.${ext}`);
  }

  async function copyPng() {
    const blob = await exportFile('png');
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
    toast('Copied as PNG');
  }

  async function copySvg() {
    const text = await (await exportFile('svg')).text();
    await navigator.clipboard.writeText(text);
    toast('Copied as SVG');
  }

  return { importFile, openExport, el };
}

function capitalised(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
