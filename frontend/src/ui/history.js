/**
 * The history panel: a board's versions as a timeline (time, kind, label, authors, element
 * count); a click previews one read-only in place of the live board (its own canvases over the
 * stage, a banner saying so; live edits by others keep arriving underneath). From the preview:
 * restore the whole version, restore the elements clicked in it, copy it to a new board. "Save
 * version…" records a named version. A restore records a before-restore version on the server,
 * then writes the difference through this user's Board (one transaction: one undo step).
 */
import * as Y from 'yjs';
import { h, toast } from './dom.js';
import { Scene } from '../render/scene.js';
import { paintStatic } from '../render/canvas.js';
import { paintOverlay } from '../render/overlay.js';
import { readMeta } from '../render/element.js';
import { topElementAt } from '../render/hit.js';
import { copyVersionToNewBoard, listVersions, saveVersion, versionUpdate } from '../sync/versions.js';

const KIND_WORDS = {
  auto: 'Auto-saved',
  named: 'Saved',
  'before-restore': 'Before a restore',
  'before-import': 'Before an import',
};
/** A press that moves less than this (screen pixels) is a click (select), more is a pan. */
const CLICK_SLOP_PX = 4;
const ZOOM_PER_PIXEL = 0.0025;

/**
 * @param {{page: HTMLElement, stage: HTMLElement, board: import('../doc/board.js').Board,
 *          camera: import('../view/camera.js').Camera, boardId: string, token: string,
 *          image: (fileId: string) => any, ink: () => ((c: string) => string) | undefined}} options
 *   `image` and `ink` are the live page's image cache and colour mapping (dark theme).
 */
export function attachHistory({ page, stage, board, camera, boardId, token, image, ink }) {
  let versions = [];
  let next = null;
  let preview = null; // {version, doc, scene, selection}
  let painted = -1;
  let rafId = 0;

  const list = h('ol.history-list');
  const more = h('button.history-more', { hidden: true, onclick: () => load(next) }, ['Older versions']);
  const panel = h('aside.history-panel.panel', { hidden: true, 'aria-label': 'Version history' }, [
    h('div.history-head', {}, [
      h('h2', {}, ['Version history']),
      h('button.history-save', { onclick: saveNamed }, ['Save version…']),
      h('button.history-close', { 'aria-label': 'Close history', onclick: () => toggle(false) }, ['×']),
    ]),
    list, more,
  ]);
  const toggleButton = h('button.history-toggle.panel', { onclick: () => toggle(), title: 'Version history' }, ['History']);

  const staticCanvas = h('canvas.layer.history-static');
  const overlayCanvas = h('canvas.layer.history-overlay', { tabindex: '0', 'aria-label': 'Version preview (read-only)' });
  const layers = h('div.history-preview', { hidden: true }, [staticCanvas, overlayCanvas]);
  const bannerText = h('span.history-banner-text');
  const restoreSelected = h('button.history-restore-selected', { onclick: () => restore(true), disabled: true }, ['Restore selected elements']);
  const banner = h('div.history-banner.panel', { hidden: true, role: 'status' }, [
    bannerText,
    h('button.history-restore', { onclick: () => restore(false) }, ['Restore this version']),
    restoreSelected,
    h('button.history-copy', { onclick: copyToNewBoard }, ['Copy to a new board']),
    h('button.history-back', { onclick: closePreview }, ['Back to the live board']),
  ]);
  stage.append(layers);
  page.append(toggleButton, panel, banner);
  attachPreviewInput();
  new ResizeObserver(() => { painted = -1; requestPaint(); }).observe(stage);
  window.addEventListener('keydown', (event) => {
    if (preview && event.key === 'Escape') closePreview();
  });

  async function toggle(show = panel.hidden) {
    panel.hidden = !show;
    if (show) await load(null);
    else closePreview();
  }

  async function load(before) {
    try {
      const found = await listVersions(boardId, token, before);
      versions = before === null ? found.versions : versions.concat(found.versions);
      next = found.next;
      renderList();
    } catch (error) {
      toast(String(error.message || error), 'error');
    }
  }

  function renderList() {
    list.replaceChildren(...(versions.length ? versions.map(item) : [h('li.history-empty', {}, ['No versions yet.'])]));
    more.hidden = next === null;
  }

  function item(version) {
    const when = new Date(version.created_at * 1000).toLocaleString();
    const selected = preview?.version.id === version.id;
    return h('li', {}, [
      h(`button.history-item${selected ? '.selected' : ''}`, { 'data-version': String(version.id), onclick: () => openPreview(version) }, [
        h('span.history-when', {}, [when]),
        h('span.history-kind', {}, [KIND_WORDS[version.kind] ?? version.kind, version.label ? `: ${version.label}` : '']),
        h('span.history-meta', {}, [
          `${version.elements} element${version.elements === 1 ? '' : 's'}`,
          version.authors.length ? ` · ${version.authors.join(', ')}` : '',
        ]),
      ]),
    ]);
  }

  async function saveNamed() {
    const label = prompt('Name this version', '');
    if (label === null) return;
    try {
      await saveVersion(boardId, token, label.trim().slice(0, 200));
      toast('Version saved');
      await load(null);
    } catch (error) {
      toast(String(error.message || error), 'error');
    }
  }

  async function openPreview(version) {
    try {
      const update = await versionUpdate(boardId, token, version.id);
      const doc = new Y.Doc();
      Y.applyUpdate(doc, update);
      preview?.doc.destroy(); // another version was being previewed
      preview = { version, doc, scene: new Scene(doc.getMap('elements'), requestPaint), selection: new Set() };
      preview.scene.refresh();
      bannerText.textContent = `Previewing ${new Date(version.created_at * 1000).toLocaleString()} (version ${version.id}), read-only. Click elements to select them.`;
      layers.hidden = false;
      banner.hidden = false;
      updateSelectedButton();
      renderList();
      painted = -1;
      requestPaint();
      requestAnimationFrame(watchCamera);
      overlayCanvas.focus({ preventScroll: true });
    } catch (error) {
      toast(String(error.message || error), 'error');
    }
  }

  function closePreview() {
    if (!preview) return;
    preview.doc.destroy();
    preview = null;
    layers.hidden = true;
    banner.hidden = true;
    renderList();
  }

  async function restore(onlySelected) {
    if (!preview) return;
    const { version, doc, selection } = preview;
    const ids = onlySelected ? [...selection] : null;
    try {
      await saveVersion(boardId, token, `before restoring version ${version.id}`, 'before-restore');
      const changed = board.restoreVersion(doc, ids);
      closePreview();
      toast(`Restored ${onlySelected ? `${ids.length} element${ids.length === 1 ? '' : 's'}` : 'the version'}: ${changed} changed (Ctrl+Z undoes it)`);
      await load(null);
    } catch (error) {
      toast(String(error.message || error), 'error');
    }
  }

  async function copyToNewBoard() {
    if (!preview) return;
    // The tab is opened now, during the click: opened once the copy's requests are done (seconds
    // for a big board), it would be blocked as a popup. It waits on about:blank meanwhile.
    const tab = window.open('', '_blank');
    if (tab) {
      tab.opener = null;
      tab.document.title = 'Copying a version…';
    }
    try {
      const path = await copyVersionToNewBoard(boardId, token, preview.version.id);
      if (tab && !tab.closed) {
        tab.location.replace(path);
        toast('Copied to a new board (opened in a new tab)');
      } else {
        window.location.assign(path); // no tab (refused, or closed since): the copy opens here
      }
    } catch (error) {
      tab?.close();
      toast(String(error.message || error), 'error');
    }
  }

  function updateSelectedButton() {
    const count = preview ? preview.selection.size : 0;
    restoreSelected.disabled = count === 0;
    restoreSelected.textContent = count ? `Restore ${count} selected element${count === 1 ? '' : 's'}` : 'Restore selected elements';
  }

  function requestPaint() {
    if (!rafId) rafId = requestAnimationFrame(paint);
  }

  function paint() {
    rafId = 0;
    if (!preview) return;
    const rect = stage.getBoundingClientRect();
    const dpr = devicePixelRatio || 1;
    for (const canvas of [staticCanvas, overlayCanvas]) {
      const width = Math.max(1, Math.round(rect.width * dpr));
      const height = Math.max(1, Math.round(rect.height * dpr));
      if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    }
    preview.scene.refresh();
    paintStatic(staticCanvas.getContext('2d'), {
      scene: preview.scene, camera, dpr, gridColor: 'rgba(120,120,140,0.35)',
      meta: readMeta(preview.doc.getMap('meta')),
      resources: { image, editingId: null, ink: ink() },
    });
    paintOverlay(overlayCanvas.getContext('2d'), {
      scene: preview.scene, camera, dpr, selection: preview.selection, marquee: null,
      eraserTrail: [], peers: [], showHandles: false,
    });
    painted = camera.version;
  }

  /** While previewing, the camera may move under it (the zoom buttons, following): repaint. */
  function watchCamera() {
    if (!preview) return;
    if (camera.version !== painted) requestPaint();
    requestAnimationFrame(watchCamera);
  }

  function attachPreviewInput() {
    let press = null;
    overlayCanvas.addEventListener('pointerdown', (event) => {
      overlayCanvas.setPointerCapture(event.pointerId);
      press = { x: event.clientX, y: event.clientY, lastX: event.clientX, lastY: event.clientY, moved: false };
    });
    overlayCanvas.addEventListener('pointermove', (event) => {
      if (!press) return;
      if (Math.hypot(event.clientX - press.x, event.clientY - press.y) > CLICK_SLOP_PX) press.moved = true;
      if (press.moved) {
        camera.panBy(event.clientX - press.lastX, event.clientY - press.lastY);
        requestPaint();
      }
      press.lastX = event.clientX;
      press.lastY = event.clientY;
    });
    overlayCanvas.addEventListener('pointerup', (event) => {
      const wasClick = press && !press.moved;
      press = null;
      if (!wasClick || !preview) return;
      const rect = overlayCanvas.getBoundingClientRect();
      const world = camera.toWorld(event.clientX - rect.left, event.clientY - rect.top);
      const hit = topElementAt(preview.scene, world.x, world.y, 6 / camera.zoom);
      if (!hit) return;
      if (preview.selection.has(hit.id)) preview.selection.delete(hit.id);
      else preview.selection.add(hit.id);
      updateSelectedButton();
      requestPaint();
    });
    overlayCanvas.addEventListener('wheel', (event) => {
      event.preventDefault();
      const rect = overlayCanvas.getBoundingClientRect();
      camera.zoomAt(Math.exp(-event.deltaY * ZOOM_PER_PIXEL), event.clientX - rect.left, event.clientY - rect.top);
      requestPaint();
    }, { passive: false });
  }
}
