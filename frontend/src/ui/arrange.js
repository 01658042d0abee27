/**
 * Arrange actions of the board page (issue 13b): group and ungroup, lock and unlock, align and
 * distribute, the grid toggle, export of the selection, and the right-click context menu that
 * offers them next to copy, paste, duplicate, delete and z-order. Each action is one
 * `board.update` (one transaction, one undo step).
 */
import { ALIGN_ACTIONS, arrangePatches, boxOf, unionBox } from '../doc/align.js';
import { groupPatches, ungroupPatches, unitsOf } from '../doc/groups.js';
import { readMeta } from '../render/element.js';
import { topElementAt } from '../render/hit.js';
import { paintArrange } from '../render/arrangeoverlay.js';
import { clickIds } from '../tools/transform.js';
import { createContextMenu } from './contextmenu.js';
import { isTextField } from '../input/keys.js';

const svg = (body) =>
  `<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" aria-hidden="true">${body}</svg>`;

/** Icons of the align and distribute actions (constant markup drawn for syncboard). */
export const ALIGN_ICONS = {
  'align-left': svg('<path d="M4 3v18"/><rect x="7" y="6" width="11" height="4"/><rect x="7" y="14" width="7" height="4"/>'),
  'align-center': svg('<path d="M12 3v18"/><rect x="6" y="6" width="12" height="4"/><rect x="8" y="14" width="8" height="4"/>'),
  'align-right': svg('<path d="M20 3v18"/><rect x="6" y="6" width="11" height="4"/><rect x="10" y="14" width="7" height="4"/>'),
  'align-top': svg('<path d="M3 4h18"/><rect x="6" y="7" width="4" height="11"/><rect x="14" y="7" width="4" height="7"/>'),
  'align-middle': svg('<path d="M3 12h18"/><rect x="6" y="6" width="4" height="12"/><rect x="14" y="8" width="4" height="8"/>'),
  'align-bottom': svg('<path d="M3 20h18"/><rect x="6" y="6" width="4" height="11"/><rect x="14" y="10" width="4" height="7"/>'),
  'distribute-h': svg('<path d="M4 3v18M20 3v18"/><rect x="9" y="8" width="6" height="8"/>'),
  'distribute-v': svg('<path d="M3 4h18M3 20h18"/><rect x="8" y="9" width="8" height="6"/>'),
};

/** Margin around the selection of an exported selection, in board units. */
const EXPORT_MARGIN = 16;

/**
 * @param {import('../tools/tool.js').ToolApp} app
 * @param {{stage: HTMLElement, canvas: HTMLElement, runAction: (name: string) => void,
 *          pasteLast: () => void, exportSelection: (region: string, ids: string[]) => void,
 *          readOnly: () => boolean}} page
 *   runAction: the page's own actions (duplicate, trash, forward, backward, front, back);
 *   pasteLast: paste what this tab copied last; exportSelection: download an SVG of the elements
 *   `ids` alone (the server exporter's, whatever else overlaps them), framed by `x,y,w,h`
 * @returns {{run: (name: string) => boolean, paint: (ctx: CanvasRenderingContext2D, dpr: number, showHandles: boolean) => void}}
 */
export function installArrange(app, page) {
  app.arrange = app.arrange ?? { editing: null };
  app.overlayState.guides = [];
  const menu = createContextMenu(page.stage);

  const selected = () => app.scene.ordered.filter((el) => app.selection.has(el.id));
  const movable = () => selected().filter((el) => !el.locked);

  const actions = {
    group: () => app.board.update(groupPatches(selected(), app.arrange.editing)),
    ungroup: () => app.board.update(ungroupPatches(selected(), app.arrange.editing)),
    lock: () => {
      const els = selected();
      const locked = els.some((el) => !el.locked);
      app.board.update(els.map((el) => [el.id, { locked }]));
    },
    grid: () => app.board.transact(() => app.board.meta.set('gridEnabled', !readMeta(app.board.meta).gridEnabled)),
    export: () => {
      const els = selected();
      const box = unionBox(els.map(boxOf));
      if (!box) return;
      const region = [box.minX - EXPORT_MARGIN, box.minY - EXPORT_MARGIN,
        box.maxX - box.minX + 2 * EXPORT_MARGIN, box.maxY - box.minY + 2 * EXPORT_MARGIN];
      page.exportSelection(region.map((v) => Math.round(v * 100) / 100).join(','), els.map((el) => el.id));
    },
  };
  for (const [name] of ALIGN_ACTIONS) {
    actions[name] = () => app.board.update(arrangePatches(unitsOf(movable(), app.arrange.editing), name));
  }

  /** Run an arrange action by name; false when the name is not one of them. */
  function run(name) {
    const action = actions[name];
    if (!action) return false;
    const viewOnly = page.readOnly();
    if (!viewOnly || name === 'export') action();
    app.requestOverlay();
    return true;
  }

  // Escape leaves the entered group (and, as everywhere, clears the selection).
  window.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || isTextField(event.target) || !app.arrange.editing) return;
    app.arrange.editing = null;
    app.requestOverlay();
  });

  page.canvas.addEventListener('contextmenu', (event) => {
    const rect = page.canvas.getBoundingClientRect();
    const sx = event.clientX - rect.left;
    const sy = event.clientY - rect.top;
    const world = app.camera.toWorld(sx, sy);
    // The context menu also selects locked elements (to unlock them).
    const hit = topElementAt(app.scene, world.x, world.y, app.tolerance());
    if (hit && !app.selection.has(hit.id)) app.setSelection(clickIds(app, hit));
    else if (!hit) app.setSelection([]);
    menu.open(sx, sy, hit ? elementItems() : boardItems());
  });

  function elementItems() {
    const els = selected();
    const viewOnly = page.readOnly();
    const grouped = els.some((el) => el.groupIds.length > 0);
    const allLocked = els.every((el) => el.locked);
    const item = (label, hint, action, disabled = false) => ({ label, hint, action, disabled: disabled || viewOnly });
    const items = [
      { label: 'Copy', hint: 'Ctrl C', action: () => document.execCommand('copy') },
      item('Paste', 'Ctrl V', page.pasteLast),
      item('Duplicate', 'Ctrl D', () => page.runAction('duplicate')),
      item('Delete', 'Del', () => page.runAction('trash')),
      'separator',
      item('Bring forward', ']', () => page.runAction('forward')),
      item('Send backward', '[', () => page.runAction('backward')),
      item('Bring to front', 'Ctrl ]', () => page.runAction('front')),
      item('Send to back', 'Ctrl [', () => page.runAction('back')),
      'separator',
      item('Group', 'Ctrl G', () => run('group'), unitsOf(els, app.arrange.editing).length < 2),
      item('Ungroup', 'Ctrl Shift G', () => run('ungroup'), !grouped),
      item(allLocked ? 'Unlock' : 'Lock', 'Ctrl Shift L', () => run('lock')),
    ];
    if (!viewOnly && els.length > 1) {
      items.push('separator', {
        row: ALIGN_ACTIONS.map(([name, title]) => ({ name, title, html: ALIGN_ICONS[name], action: () => run(name) })),
      });
    }
    items.push('separator', { label: 'Export selection (SVG)', action: () => run('export') });
    return items;
  }

  function boardItems() {
    const viewOnly = page.readOnly();
    const grid = readMeta(app.board.meta).gridEnabled;
    return [
      { label: 'Paste', hint: 'Ctrl V', action: page.pasteLast, disabled: viewOnly },
      { label: 'Select all', hint: 'Ctrl A', action: () => app.setSelection(app.scene.ordered.map((el) => el.id)) },
      { label: grid ? 'Hide grid' : 'Show grid', hint: "Ctrl '", action: () => run('grid'), disabled: viewOnly },
    ];
  }

  return {
    run,
    paint(ctx, dpr, showHandles) {
      paintArrange(ctx, {
        scene: app.scene, camera: app.camera, dpr, selection: app.selection,
        guides: app.overlayState.guides, editing: app.arrange.editing, showHandles,
      });
    },
  };
}
