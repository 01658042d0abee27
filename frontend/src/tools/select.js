/**
 * Select tool: click (shift toggles), marquee, move, resize and rotate with handles, drag the ends
 * of a line or arrow, double-click to edit text.
 * A state machine: idle -> moving | marquee | resizing | rotating | endpoint | multi -> idle.
 * Groups, locks, snapping and the multi-selection handles (`multi`) come from ./transform.js.
 */
import { topElementAt, elementsInRect } from '../render/hit.js';
import {
  pickAt, clickIds, marqueeIds, leaveGroup, enterGroup, moveSnapper, snapResizePointer, endSnap,
  grabSelectionHandle, dragSelectionHandle,
} from './transform.js';
import { frameOf, hasPoints, pointBox, LABEL_TYPES } from '../render/element.js';
import { handlesFor, lineEnds, rotateAbout, HANDLE_EDGES, HANDLE_PX } from '../render/handles.js';

const ROTATE_SNAP = Math.PI / 12;
const MIN_SIZE = 2;

/** @param {import('./tool.js').ToolApp} app */
export function createSelectTool(app) {
  let state = { kind: 'idle' };

  function grabHandle(e) {
    if (app.selection.size !== 1) return null;
    const el = app.scene.byId.get([...app.selection][0]);
    if (!el || el.locked) return null;
    const reach = (HANDLE_PX / 2 + 4) / app.camera.zoom;
    for (const h of handlesFor(el, app.camera.zoom)) {
      if (Math.abs(h.x - e.x) <= reach && Math.abs(h.y - e.y) <= reach) return { el, handle: h.name };
    }
    return null;
  }

  function startMove(e) {
    const origins = new Map();
    for (const id of app.selection) {
      const el = app.scene.byId.get(id);
      if (el && !el.locked) origins.set(id, { x: el.x, y: el.y });
    }
    const snap = moveSnapper(app, origins.keys());
    state = { kind: 'moving', startX: e.x, startY: e.y, origins, moved: false, snap };
  }

  return {
    name: 'select',
    cursor: 'default',
    onPointerDown(e) {
      // A view-only board is selected (to follow, export, inspect) but never moved or resized.
      const multi = app.board.readOnly ? null : grabSelectionHandle(app, e);
      if (multi) {
        state = multi;
        return;
      }
      const grabbed = app.board.readOnly ? null : grabHandle(e);
      if (grabbed) {
        const { el, handle } = grabbed;
        const frame = frameOf(el);
        if (handle === 'p0' || handle === 'p1') {
          app.attach?.freeEnd(el.id, handle === 'p0' ? 'start' : 'end');
          const ends = lineEnds(el);
          state = { kind: 'endpoint', el, fixed: ends[handle === 'p0' ? 1 : 0], moving: handle };
        } else if (handle === 'rotate') {
          const c = { x: frame.x + frame.w / 2, y: frame.y + frame.h / 2 };
          state = { kind: 'rotating', el, c, start: Math.atan2(e.y - c.y, e.x - c.x) };
        } else {
          state = { kind: 'resizing', el, frame, handle };
        }
        return;
      }
      const hit = pickAt(app, e);
      if (hit) {
        const ids = clickIds(app, hit);
        if (e.shift) {
          const next = new Set(app.selection);
          const had = next.has(hit.id);
          for (const id of ids) {
            if (had) next.delete(id);
            else next.add(id);
          }
          app.setSelection(next);
          if (had) return;
        } else if (!app.selection.has(hit.id)) {
          app.setSelection(ids);
        }
        if (!app.board.readOnly) startMove(e);
        return;
      }
      leaveGroup(app);
      const base = e.shift ? new Set(app.selection) : new Set();
      if (!e.shift) app.setSelection([]);
      state = { kind: 'marquee', startX: e.x, startY: e.y, base };
    },
    onPointerMove(e) {
      if (state.kind === 'moving') {
        const dx = e.x - state.startX;
        const dy = e.y - state.startY;
        if (!state.moved && Math.hypot(dx, dy) * app.camera.zoom < 2) return;
        if (!state.moved) app.attach?.onMoveStart(state.origins);
        state.moved = true;
        const d = state.snap(dx, dy, e);
        app.board.update([...state.origins].map(([id, o]) => [id, { x: o.x + d.dx, y: o.y + d.dy }]));
      } else if (state.kind === 'marquee') {
        const rect = {
          minX: Math.min(state.startX, e.x), minY: Math.min(state.startY, e.y),
          maxX: Math.max(state.startX, e.x), maxY: Math.max(state.startY, e.y),
        };
        app.overlayState.marquee = rect;
        app.setSelection(new Set([...state.base, ...marqueeIds(app, elementsInRect(app.scene, rect))]));
      } else if (state.kind === 'resizing') {
        resize(app, state, snapResizePointer(app, state, e));
      } else if (state.kind === 'multi') {
        dragSelectionHandle(app, state, e);
      } else if (state.kind === 'endpoint') {
        moveEndpoint(app, state, e);
        app.attach?.hint(e.x, e.y, state.el.id);
      } else if (state.kind === 'rotating') {
        let angle = state.el.angle + Math.atan2(e.y - state.c.y, e.x - state.c.x) - state.start;
        if (e.shift) angle = Math.round(angle / ROTATE_SNAP) * ROTATE_SNAP;
        angle = Math.atan2(Math.sin(angle), Math.cos(angle));
        app.board.update([[state.el.id, { angle }]]);
      }
    },
    onPointerUp(e) {
      if (state.kind === 'marquee') app.overlayState.marquee = null;
      endSnap(app);
      if (state.kind === 'endpoint') app.attach?.dropEnd(state.el.id, state.moving === 'p0' ? 'start' : 'end', e.x, e.y);
      if (state.kind === 'moving' && state.moved) app.attach?.settle(state.origins.keys());
      if (state.kind === 'resizing' || state.kind === 'rotating') app.attach?.transformed([state.el.id]);
      if (state.kind === 'multi') app.attach?.transformed(state.origins.map((o) => o.id));
      state = { kind: 'idle' };
      app.requestOverlay();
    },
    onDoubleClick(e) {
      if (enterGroup(app, e)) return;
      const hit = topElementAt(app.scene, e.x, e.y, app.tolerance());
      if (hit && (hit.type === 'text' || hit.type === 'sticky')) app.editText(hit.id);
      // A label goes in a shape when double-clicking anywhere inside it, even a transparent one.
      const shape = hit && LABEL_TYPES.has(hit.type) ? hit : hit ? null : app.attach?.targetAt(e.x, e.y, null);
      if (shape && LABEL_TYPES.has(shape.type)) app.editText(shape.id, { field: 'label' });
    },
    onExit() {
      app.overlayState.marquee = null;
      state = { kind: 'idle' };
    },
  };
}

/** Drag one end of a line or arrow; the other end stays. The result is unrotated. */
function moveEndpoint(app, state, e) {
  const { fixed, moving } = state;
  const [a, b] = moving === 'p0' ? [{ x: e.x, y: e.y }, fixed] : [fixed, { x: e.x, y: e.y }];
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  app.board.setPoints(state.el.id, [a.x - x, a.y - y, b.x - x, b.y - y], {
    x, y, w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y), angle: 0,
  });
}

/** Resize one element by a handle, keeping the opposite side fixed (rotation aware). */
function resize(app, state, e) {
  const { el, frame: f, handle } = state;
  const c0 = { x: f.x + f.w / 2, y: f.y + f.h / 2 };
  const local = rotateAbout(e.x, e.y, c0.x, c0.y, -el.angle);
  const [sx, sy] = HANDLE_EDGES[handle];
  let left = f.x;
  let right = f.x + f.w;
  let top = f.y;
  let bottom = f.y + f.h;
  if (sx < 0) left = Math.min(local.x, right - MIN_SIZE);
  if (sx > 0) right = Math.max(local.x, left + MIN_SIZE);
  if (sy < 0) top = Math.min(local.y, bottom - MIN_SIZE);
  if (sy > 0) bottom = Math.max(local.y, top + MIN_SIZE);
  if (e.shift && sx !== 0 && sy !== 0 && f.w > 0 && f.h > 0) {
    const scale = Math.max((right - left) / f.w, (bottom - top) / f.h);
    if (sx < 0) left = right - f.w * scale;
    else right = left + f.w * scale;
    if (sy < 0) top = bottom - f.h * scale;
    else bottom = top + f.h * scale;
  }
  const w = right - left;
  const h = bottom - top;
  const center = rotateAbout(left + w / 2, top + h / 2, c0.x, c0.y, el.angle);
  const box = { x: center.x - w / 2, y: center.y - h / 2, w, h };
  if (hasPoints(el.type)) {
    const b = pointBox(el.points);
    const kx = f.w > 1e-6 ? w / f.w : 1;
    const ky = f.h > 1e-6 ? h / f.h : 1;
    const points = el.points.map((v, i) => (i % 2 === 0 ? (v - b.minX) * kx : (v - b.minY) * ky));
    app.board.setPoints(el.id, points, box);
  } else if (el.type === 'text' && f.h > 0) {
    app.board.update([[el.id, { ...box, fontSize: Math.max(4, (el.fontSize * h) / f.h) }]]);
  } else {
    app.board.update([[el.id, box]]);
  }
}
