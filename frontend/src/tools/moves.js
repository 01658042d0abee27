/**
 * Moves that are not a drag: arrow-key nudges and align/distribute (issue 13). They go the way
 * a mouse drag goes (tools/select.js with tools/attach.js): a moved frame carries its content,
 * a connector moved without its targets comes loose from them, a routed connector moves by its
 * stored origin, and the moved elements then join the frame their centre lies in, or leave
 * theirs. Locked elements stay. Each call is one undo step.
 */
import { readMeta } from '../render/element.js';
import { boxOf, unionBox } from '../doc/align.js';
import { gridSnapBox } from '../ui/snapping.js';

/** A Shift nudge with the grid off, in pixels (one without Shift: 1 px). */
export const NUDGE_LARGE_PX = 10;
/**
 * A Shift nudge with the grid on, in grid steps: tldraw's choice (its Shift nudge is 5 grid steps,
 * 10 px without the grid); Excalidraw's Shift nudge with the grid on is 1 px, which Alt is here.
 */
export const NUDGE_LARGE_GRID_STEPS = 5;

/**
 * Move the elements of `ids` by (dx, dy) steps: an arrow-key nudge. A step is a pixel
 * (`large`: `NUDGE_LARGE_PX`), or with the board's grid on a grid step (`large`:
 * `NUDGE_LARGE_GRID_STEPS`), and then the selection lands on the grid as a drag does: the
 * top-left corner of the moved elements' box goes to the nearest grid point. `offGrid` (Alt, as
 * in a drag) moves by pixels with the grid on too, and does not land on it.
 * @param {import('./tool.js').ToolApp} app
 * @param {Iterable<string>} ids
 * @param {number} dx
 * @param {number} dy
 * @param {{large?: boolean, offGrid?: boolean}} [how]
 */
export function nudge(app, ids, dx, dy, { large = false, offGrid = false } = {}) {
  const list = [...ids];
  const steps = large ? NUDGE_LARGE_GRID_STEPS : 1;
  const px = large ? NUDGE_LARGE_PX : 1;
  const shift = (offGrid ? null : gridShift(app, list, dx * steps, dy * steps)) ?? { dx: dx * px, dy: dy * px };
  moveBy(app, new Map(list.map((id) => [id, shift])));
}

/** The shift of a nudge by (dx, dy) grid steps, snapped to the grid; null with the grid off. */
function gridShift(app, ids, dx, dy) {
  const meta = readMeta(app.board.meta);
  if (!meta.gridEnabled) return null;
  const size = meta.gridSize;
  const els = ids.map((id) => app.scene.byId.get(id)).filter((el) => el && !el.locked);
  const box = unionBox(els.map(boxOf));
  if (!box) return null;
  const moved = { minX: box.minX + dx * size, minY: box.minY + dy * size, maxX: box.maxX + dx * size, maxY: box.maxY + dy * size };
  const g = gridSnapBox(moved, size);
  return { dx: dx * size + g.dx, dy: dy * size + g.dy };
}

/**
 * Apply move patches (doc/align.js `arrangePatches`: new x, y of the scene's elements).
 * @param {import('./tool.js').ToolApp} app
 * @param {Array<[string, {x: number, y: number}]>} patches
 */
export function movePatches(app, patches) {
  app.scene.refresh();
  const shifts = new Map();
  for (const [id, { x, y }] of patches) {
    const el = app.scene.byId.get(id);
    if (el) shifts.set(id, { dx: x - el.x, dy: y - el.y });
  }
  moveBy(app, shifts);
}

/**
 * Move each element of `shifts` (id -> {dx, dy}) by its shift, and a moved frame's content by
 * the frame's.
 * @param {import('./tool.js').ToolApp} app
 * @param {Map<string, {dx: number, dy: number}>} shifts
 */
function moveBy(app, shifts) {
  const { board, scene } = app;
  scene.refresh();
  const origins = new Map();
  for (const id of shifts.keys()) {
    const el = scene.byId.get(id);
    if (el && !el.locked) origins.set(id, { x: el.x, y: el.y });
  }
  if (origins.size === 0) return;
  board.beginGesture();
  try {
    app.attach.onMoveStart(origins); // adds the frames' content; routed connectors' stored origin
    const patches = [];
    const moving = new Map();
    for (const [id, origin] of origins) {
      const shift = shifts.get(id) ?? shifts.get(scene.byId.get(id)?.frameId ?? '');
      if (!shift) continue;
      patches.push([id, { x: origin.x + shift.dx, y: origin.y + shift.dy }]);
      moving.set(id, shift);
    }
    // Membership from where the move puts things, written with the move: one transaction, so
    // the scene re-reads the moved elements once (BENCHMARKS.md, "Frame membership writes").
    const membership = app.attach.settleMoving(moving);
    board.transact(() => {
      board.update(patches);
      board.update(membership, { rewrite: true });
    });
  } finally {
    board.endGesture();
  }
}
