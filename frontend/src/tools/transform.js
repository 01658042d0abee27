/**
 * What the select tool adds for groups, locks, snapping and multi-selection transforms:
 * - which element a click picks (locked ones are passed through) and what it selects (its
 *   group at the level of the entered group); double-click enters a group;
 * - snapping of moves and resizes (guides in `app.overlayState.guides`, Alt disables);
 * - resize and rotate of a multi-selection by the handles on its box: Shift keeps the
 *   proportions (corners) or turns in 15° steps. Each pointer move is one transaction; the
 *   whole drag is one undo step (the pointer router's gesture).
 *
 * `app.arrange.editing` is the entered group's id (null at the top level).
 */
import { elementContains } from '../render/hit.js';
import { frameOf, hasPoints, pointBox, readMeta } from '../render/element.js';
import { HANDLE_EDGES, HANDLE_PX, rotateAbout } from '../render/handles.js';
import { multiBox, multiHandles } from '../render/arrangeoverlay.js';
import { boxOf, unionBox } from '../doc/align.js';
import { expandToGroups, insideGroup, levelGroup } from '../doc/groups.js';
import { gridSnapBox, gridSnapPoint, liveTargets, snapBox, snapPoint, SNAP_PX } from '../ui/snapping.js';

const ROTATE_STEP = Math.PI / 12;
const MIN_SIZE = 2;

/** The arrange state of a page, kept on `app.arrange`. */
function arrangeOf(app) {
  if (!app.arrange) app.arrange = { editing: null };
  return app.arrange;
}

/**
 * The topmost unlocked element under the pointer (a click passes through locked ones).
 * @param {import('./tool.js').ToolApp} app
 * @param {{x: number, y: number}} e
 */
export function pickAt(app, e) {
  const tolerance = app.tolerance();
  const ordered = app.scene.ordered;
  for (let i = ordered.length - 1; i >= 0; i--) {
    const el = ordered[i];
    if (!el.known || el.locked) continue;
    const b = el.bounds;
    if (e.x < b.minX - tolerance || e.x > b.maxX + tolerance || e.y < b.minY - tolerance || e.y > b.maxY + tolerance) continue;
    if (elementContains(el, e.x, e.y, tolerance)) return el;
  }
  return null;
}

/** Ids a click on `el` selects: its group at the entered level (leaving a group it is outside). */
export function clickIds(app, el) {
  const state = arrangeOf(app);
  if (!insideGroup(el, state.editing)) state.editing = null;
  return expandToGroups(app.scene.ordered, [el.id], state.editing);
}

/** Ids a marquee selects: whole groups at the entered level. */
export function marqueeIds(app, ids) {
  return expandToGroups(app.scene.ordered, ids, arrangeOf(app).editing);
}

/** A click on empty board leaves the entered group. */
export function leaveGroup(app) {
  arrangeOf(app).editing = null;
}

/**
 * Double-click: enter the group the element under the pointer stands for, selecting the
 * element at the new level. Returns whether it did (else the double-click is the tool's own).
 */
export function enterGroup(app, e) {
  const hit = pickAt(app, e);
  const state = arrangeOf(app);
  if (!hit || !insideGroup(hit, state.editing)) return false;
  const group = levelGroup(hit, state.editing);
  if (!group) return false;
  state.editing = group;
  app.setSelection(expandToGroups(app.scene.ordered, [hit.id], group));
  app.requestOverlay();
  return true;
}

/**
 * At the start of a move: a function turning the raw pointer offset into the snapped one. The
 * moving box is the selection's; the snap targets leave out the selection and what moves with
 * it: a moved frame's content (tools/attach.js `onMoveStart`; locked members stay, so they are
 * targets) and connectors bound to any of these.
 * @param {import('./tool.js').ToolApp} app
 * @param {Iterable<string>} ids the moving elements
 * @returns {(dx: number, dy: number, e: {alt: boolean}) => {dx: number, dy: number}}
 */
export function moveSnapper(app, ids) {
  const moving = new Set(ids);
  const box = unionBox([...moving].map((id) => app.scene.byId.get(id)).filter(Boolean).map(boxOf));
  const snap = snapContext(app, withCarried(app, moving));
  return (dx, dy, e) => {
    if (!box || e.alt) return setGuides(app, [], { dx, dy });
    const moved = { minX: box.minX + dx, minY: box.minY + dy, maxX: box.maxX + dx, maxY: box.maxY + dy };
    if (snap.grid) {
      const g = gridSnapBox(moved, snap.grid);
      return setGuides(app, [], { dx: dx + g.dx, dy: dy + g.dy });
    }
    const s = snapBox(moved, snap.targets(), snap.threshold);
    return setGuides(app, s.guides, { dx: dx + s.dx, dy: dy + s.dy });
  };
}

/**
 * The pointer of a resize drag, snapped on the axes the handle moves (single elements: only
 * unrotated ones, whose edges are axis-aligned).
 * @param {import('./tool.js').ToolApp} app
 * @param {{handle: string, el?: {angle: number}, snapContext?: object}} state the resize drag
 *   (single `resizing` or `multi`); its snap context is made on the first move
 * @param {import('./tool.js').ToolEvent} e
 * @returns {import('./tool.js').ToolEvent} the event with x, y snapped
 */
export function snapResizePointer(app, state, e) {
  if (!state.snapContext) state.snapContext = snapContext(app, new Set(app.selection));
  const snap = state.snapContext;
  const [sx, sy] = HANDLE_EDGES[state.handle];
  if (e.alt || (state.el && state.el.angle)) return setGuides(app, [], e);
  const axes = { x: sx !== 0, y: sy !== 0 };
  if (snap.grid) return setGuides(app, [], { ...e, ...gridSnapPoint(e, snap.grid, axes) });
  const s = snapPoint(e, snap.targets(), snap.threshold, axes);
  return setGuides(app, s.guides, { ...e, x: s.x, y: s.y });
}

/**
 * A pointer event on the grid when the board's grid is on and Alt is not held (drawing tools
 * start and end new shapes on it).
 * @param {import('./tool.js').ToolApp} app
 * @param {import('./tool.js').ToolEvent} e
 */
export function onGrid(app, e) {
  const meta = readMeta(app.board.meta);
  if (!meta.gridEnabled || e.alt) return e;
  return { ...e, ...gridSnapPoint(e, meta.gridSize, { x: true, y: true }) };
}

/** Clear the guides at the end of a drag. */
export function endSnap(app) {
  app.overlayState.guides = [];
}

/**
 * A press on a handle of a multi-selection's box: the drag state, or null.
 * @param {import('./tool.js').ToolApp} app
 * @param {{x: number, y: number}} e
 */
export function grabSelectionHandle(app, e) {
  const box = multiBox(app.scene, app.selection);
  if (!box) return null;
  const reach = (HANDLE_PX / 2 + 4) / app.camera.zoom;
  const handle = multiHandles(box, app.camera.zoom).find((hd) => Math.abs(hd.x - e.x) <= reach && Math.abs(hd.y - e.y) <= reach);
  if (!handle) return null;
  const origins = [...app.selection].map((id) => app.scene.byId.get(id)).filter(Boolean);
  const c = { x: (box.minX + box.maxX) / 2, y: (box.minY + box.maxY) / 2 };
  return { kind: 'multi', handle: handle.name, box, origins, c, start: Math.atan2(e.y - c.y, e.x - c.x) };
}

/** Follow the pointer of a multi-selection handle drag. */
export function dragSelectionHandle(app, state, e) {
  if (state.handle === 'rotate') rotateMany(app, state, e);
  else resizeMany(app, state, snapResizePointer(app, state, e));
}

function rotateMany(app, state, e) {
  let delta = Math.atan2(e.y - state.c.y, e.x - state.c.x) - state.start;
  if (e.shift) delta = Math.round(delta / ROTATE_STEP) * ROTATE_STEP;
  const patches = state.origins.map((o) => {
    const f = frameOf(o);
    const c = { x: f.x + f.w / 2, y: f.y + f.h / 2 };
    const moved = rotateAbout(c.x, c.y, state.c.x, state.c.y, delta);
    const angle = o.angle + delta;
    return [o.id, { x: o.x + moved.x - c.x, y: o.y + moved.y - c.y, angle: Math.atan2(Math.sin(angle), Math.cos(angle)) }];
  });
  app.board.update(patches);
}

function resizeMany(app, state, e) {
  const { box, handle } = state;
  const [sx, sy] = HANDLE_EDGES[handle];
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  let kx = axisScale(sx, w, sx < 0 ? box.maxX - e.x : e.x - box.minX);
  let ky = axisScale(sy, h, sy < 0 ? box.maxY - e.y : e.y - box.minY);
  if (e.shift && sx !== 0 && sy !== 0) kx = ky = Math.max(kx, ky);
  const ax = sx < 0 ? box.maxX : box.minX;
  const ay = sy < 0 ? box.maxY : box.minY;
  app.board.transact(() => {
    const patches = [];
    for (const o of state.origins) {
      const f = frameOf(o);
      const cx = ax + (f.x + f.w / 2 - ax) * kx;
      const cy = ay + (f.y + f.h / 2 - ay) * ky;
      // The element's own axes, scaled: exact for unrotated elements and uniform scales.
      const cos = Math.cos(o.angle);
      const sin = Math.sin(o.angle);
      const lx = Math.hypot(kx * cos, ky * sin);
      const ly = Math.hypot(kx * sin, ky * cos);
      const frame = { x: cx - (f.w * lx) / 2, y: cy - (f.h * ly) / 2, w: f.w * lx, h: f.h * ly };
      if (hasPoints(o.type)) {
        const b = pointBox(o.points);
        const points = o.points.map((v, i) => (i % 2 === 0 ? (v - b.minX) * lx : (v - b.minY) * ly));
        app.board.setPoints(o.id, points, frame);
      } else if (o.type === 'text') {
        patches.push([o.id, { ...frame, fontSize: Math.max(4, o.fontSize * ly) }]);
      } else {
        patches.push([o.id, frame]);
      }
    }
    app.board.update(patches);
  });
}

/** The scale of one axis of a resize: the dragged span over the original size (never a flip). */
function axisScale(side, size, span) {
  return side === 0 || size <= 1e-6 ? 1 : Math.max(MIN_SIZE / size, span / size);
}

/**
 * What snapping needs for one drag: the grid size when the grid is on, else the targets in view:
 * every element but the dragged ones and the connectors bound to them (which follow the drag).
 */
function snapContext(app, exclude) {
  const meta = readMeta(app.board.meta);
  const skip = new Set(exclude);
  app.scene.refresh();
  for (const id of exclude) for (const connector of app.scene.connectorsOf(id)) skip.add(connector);
  const live = liveTargets(app.scene, () => app.camera.viewRect(), skip);
  let targets = null;
  let seen = -1;
  return {
    grid: meta.gridEnabled ? meta.gridSize : 0,
    threshold: SNAP_PX / app.camera.zoom,
    // From what is in view: computed on first use, and brought up to date only after a change
    // this page did not make (a shape someone else moves or draws during the drag), so that the
    // drag's own moves cost a few binary searches each. The update replaces the lines of the
    // elements changed since (ui/snapping.js `liveTargets`), not all of them.
    targets: () => {
      if (!targets || seen !== app.scene.othersVersion) {
        seen = app.scene.othersVersion;
        targets = live();
      }
      return targets;
    },
  };
}

/** `ids` and the unlocked elements held by the frames among them (what a move of them carries). */
function withCarried(app, ids) {
  const { scene } = app;
  scene.refresh();
  const frames = new Set([...ids].filter((id) => scene.byId.get(id)?.type === 'frame'));
  const all = new Set(ids);
  if (frames.size > 0) for (const el of scene.ordered) if (frames.has(el.frameId) && !el.locked) all.add(el.id);
  return all;
}

function setGuides(app, guides, result) {
  const before = app.overlayState.guides ?? [];
  app.overlayState.guides = guides;
  if (before.length || guides.length) app.requestOverlay();
  return result;
}
