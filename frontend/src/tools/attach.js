/**
 * What moves with what (shared/BOARD.md, "Connectors" and "Frames"): which shape a connector end
 * dropped at a point binds to, which ends come loose when a connector is moved without its
 * targets or its target is deleted, which frame holds an element (also after a frame is
 * resized), and what a frame's deletion takes with it. Tools call it at the
 * moments that decide (an end dropped, a move started or ended, an element created); it writes
 * through `app.board` only.
 */
import { anchorFor, distanceToTarget, isBindable } from '../render/routing.js';
import { holds, watchFrameMembership } from './framerepair.js';

/** How far outside a shape (screen pixels) an end still binds to it. */
const BIND_REACH_PX = 14;
/** A point dropped this close to the centre (normalised, per axis) binds to the centre. */
const CENTRE_SNAP = 0.3;
const ENDS = ['start', 'end'];

/**
 * @param {import('./tool.js').ToolApp} app
 */
export function createAttachments(app) {
  const { board, scene } = app;

  /** The topmost bindable element at or near world (x, y), other than `excludeId`. */
  function targetAt(x, y, excludeId) {
    const reach = BIND_REACH_PX / app.camera.zoom;
    for (let i = scene.ordered.length - 1; i >= 0; i--) {
      const el = scene.ordered[i];
      if (!el.known || el.id === excludeId || !isBindable(el.type)) continue;
      const b = el.bounds;
      if (x < b.minX - reach || x > b.maxX + reach || y < b.minY - reach || y > b.maxY + reach) continue;
      if (distanceToTarget(el, x, y) <= reach) return el;
    }
    return null;
  }

  /** Binding fields of connector end `end` dropped at (x, y): bound to what is there, or free. */
  function bindFields(end, x, y, excludeId = null) {
    const target = targetAt(x, y, excludeId);
    if (!target) return { [`${end}BindId`]: '' };
    let { x: ax, y: ay } = anchorFor(target, x, y);
    if (Math.abs(ax - 0.5) < CENTRE_SNAP && Math.abs(ay - 0.5) < CENTRE_SNAP) {
      ax = 0.5;
      ay = 0.5;
    }
    return { [`${end}BindId`]: target.id, [`${end}AnchorX`]: ax, [`${end}AnchorY`]: ay };
  }

  /** A connector's drawn geometry as stored fields (so unbinding leaves it where it is). */
  function asDrawn(el, fields) {
    return [el.id, { points: el.points, fields: { x: el.x, y: el.y, w: el.w, h: el.h, angle: 0, ...fields } }];
  }

  /** Elements a frame holds. */
  function heldBy(frameId) {
    return scene.ordered.filter((el) => el.frameId === frameId && el.id !== frameId);
  }

  /** The board's frames, topmost first: looked up once per settle, not once per element. */
  function framesTopDown() {
    return scene.ordered.filter((el) => el.type === 'frame').reverse();
  }

  /** The topmost frame (of `frames`) whose box holds the centre of `el` (never `el` itself), or null. */
  function frameAround(el, frames = framesTopDown()) {
    return frames.find((frame) => frame.id !== el.id && holds(frame, el)) ?? null;
  }

  /**
   * The frames among `ids` get their own `frameId` written (''; a frame is never a member):
   * the sign, cheaper than rewriting every member's, that the move or resize of the frame has
   * ended, on which other pages check its members (tools/framerepair.js).
   */
  function markFrames(ids) {
    return [...ids].filter((id) => scene.byId.get(id)?.type === 'frame').map((id) => [id, { frameId: '' }]);
  }

  /**
   * The patches of `settle` for the elements of `moved`, each read through `view` (where it
   * lies); `frames` topmost first, read the same way.
   */
  function settlePatches(moved, reaffirm, frames, view) {
    const patches = [];
    for (const id of moved) {
      const el = scene.byId.get(id);
      if (!el || el.type === 'frame') continue;
      const frameId = frameAround(view(el), frames)?.id ?? '';
      const carried = frameId === el.frameId && moved.has(frameId);
      if (frameId !== el.frameId || (reaffirm && !carried)) patches.push([id, { frameId }]);
    }
    if (reaffirm) patches.push(...markFrames(moved));
    return patches;
  }

  watchFrameMembership(app, frameAround);

  return {
    bindFields,

    /** The element an end at (x, y) would bind to, or null. */
    targetAt,

    /** Show (on the overlay) which shape an end dragged to (x, y) would bind to; null clears. */
    hint(x, y, excludeId) {
      const id = x === null ? null : targetAt(x, y, excludeId)?.id ?? null;
      if (app.overlayState.bindTarget === id) return;
      app.overlayState.bindTarget = id;
      app.requestOverlay();
    },

    /** Free one end of a connector before it is dragged, leaving it where it is drawn. */
    freeEnd(id, end) {
      const el = scene.byId.get(id);
      if (el && el[`${end}BindId`]) board.patchConnectors([asDrawn(el, { [`${end}BindId`]: '' })]);
    },

    /** Bind (or leave free) the end of connector `id` just dropped at (x, y). */
    dropEnd(id, end, x, y) {
      this.hint(null);
      board.update([[id, bindFields(end, x, y, id)]]);
    },

    /**
     * A move of the elements in `origins` (id -> {x, y}) starts: the frames' content joins it,
     * connectors moved without a target come loose from it, and routed connectors move by
     * their stored origin (their drawn box is derived). Edits `origins` in place.
     */
    onMoveStart(origins) {
      scene.refresh();
      for (const id of [...origins.keys()]) {
        if (scene.byId.get(id)?.type !== 'frame') continue;
        for (const el of heldBy(id)) {
          if (!origins.has(el.id) && !el.locked) origins.set(el.id, { x: el.x, y: el.y }); // locked stay
        }
      }
      const patches = [];
      for (const id of origins.keys()) {
        const el = scene.byId.get(id);
        if (!el || !el.routed) continue;
        const loose = {};
        for (const end of ENDS) {
          const target = el[`${end}BindId`];
          if (target && !origins.has(target)) loose[`${end}BindId`] = '';
        }
        if (Object.keys(loose).length > 0) {
          patches.push(asDrawn(el, loose));
          origins.set(id, { x: el.x, y: el.y });
        } else {
          origins.set(id, { x: el.storedX, y: el.storedY });
        }
      }
      if (patches.length > 0) board.patchConnectors(patches);
    },

    /**
     * Moved or created elements join the frame their centre is now in (or leave theirs). After
     * a move (`reaffirm`) each moved element has its `frameId` written even where it stays the
     * same ('' included), so that a page whose concurrent resize took it in or let it go hears
     * of the move's end and repairs (tools/framerepair.js); a member carried by its moved frame
     * is not (nothing else moved it), the frame's own `frameId` is written instead (`markFrames`).
     */
    settle(ids, reaffirm = true) {
      scene.refresh();
      const patches = settlePatches(new Set(ids), reaffirm, framesTopDown(), (el) => el);
      if (patches.length > 0) board.update(patches, { rewrite: true });
    },

    /**
     * `settle` of a move not written yet (tools/moves.js): the elements of `shifts` (id ->
     * {dx, dy}, what `onMoveStart` left in the move) read where the move puts them. The caller
     * writes the patches (with `rewrite`) in the move's own transaction, so a nudge of 10,000
     * elements has the scene re-read once, not twice.
     * @param {Map<string, {dx: number, dy: number}>} shifts
     * @returns {Array<[string, {frameId: string}]>}
     */
    settleMoving(shifts) {
      scene.refresh();
      const view = (el) => {
        const d = shifts.get(el.id);
        // What frameOf and frameAround read, moved (not a copy of the whole element).
        return d ? { id: el.id, type: el.type, points: el.points, x: el.x + d.dx, y: el.y + d.dy, w: el.w, h: el.h } : el;
      };
      return settlePatches(new Set(shifts.keys()), true, framesTopDown().map(view), view);
    },

    /**
     * Frames `frameIds` were resized: free elements whose centre a resized frame now holds (as
     * the topmost frame there) join it, and its members whose centre it no longer holds leave it
     * for the frame they are now in, if any. Only those are written, and the frame's own
     * `frameId` (`markFrames`), so that a page whose concurrent move took a member out repairs
     * it (tools/framerepair.js). Written in the resize's gesture: one undo step.
     */
    reframe(frameIds) {
      scene.refresh();
      const resized = new Set([...frameIds].filter((id) => scene.byId.get(id)?.type === 'frame'));
      if (resized.size === 0) return;
      const frames = framesTopDown();
      const patches = [];
      for (const el of scene.ordered) {
        if (el.type === 'frame') continue;
        const around = frameAround(el, frames)?.id ?? '';
        const free = !el.frameId || scene.byId.get(el.frameId)?.type !== 'frame';
        const write = resized.has(el.frameId) || (free && resized.has(around));
        if (write && around !== el.frameId) patches.push([el.id, { frameId: around }]);
      }
      patches.push(...markFrames(resized));
      board.update(patches, { rewrite: true });
    },

    /** Elements `ids` were resized or rotated: frames update what they hold, the rest settle. */
    transformed(ids) {
      const list = [...ids];
      this.settle(list.filter((id) => scene.byId.get(id)?.type !== 'frame'));
      this.reframe(list);
    },

    /** For Board.removalOf: what deleting `ids` deletes, a frame's content with the frame. */
    withContents(ids) {
      scene.refresh();
      const all = new Set(ids);
      for (const id of ids) {
        if (scene.byId.get(id)?.type === 'frame') for (const el of heldBy(id)) all.add(el.id);
      }
      return [...all];
    },

    /** A new frame adopts the free elements whose centre it holds. */
    adopt(frameId) {
      scene.refresh();
      const frame = scene.byId.get(frameId);
      if (!frame) return;
      const frames = framesTopDown();
      const patches = [];
      for (const el of scene.ordered) {
        if (el.id === frameId || el.type === 'frame' || el.frameId) continue;
        if (frameAround(el, frames)?.id === frameId) patches.push([el.id, { frameId }]);
      }
      if (patches.length > 0) board.update(patches);
    },

    /**
     * Copies `newIds` of `sourceIds` (same order) were just created (paste, duplicate): a copied
     * connector stays bound to the copies of its targets and comes loose from targets not
     * copied (drawn at its copied points: where the original was drawn, ui/copies.js); copies
     * join the frame they landed in (a
     * copied frame's content: the frame's copy, which lies on top).
     */
    copied(sourceIds, newIds) {
      scene.refresh();
      const copyOf = new Map(sourceIds.map((id, i) => [id, newIds[i]]));
      const patches = [];
      for (const id of newIds) {
        const el = scene.byId.get(id);
        if (!el) continue;
        const fields = {};
        for (const end of ENDS) {
          const target = el[`${end}BindId`];
          if (target) fields[`${end}BindId`] = copyOf.get(target) ?? '';
        }
        if (Object.keys(fields).length > 0) patches.push([id, fields]);
      }
      if (patches.length > 0) board.update(patches);
      this.settle(newIds, false);
    },

    /** For Board.beforeRemove: connectors bound to removed elements keep their drawn ends. */
    detachFrom(ids) {
      scene.refresh();
      const removed = new Set(ids);
      const patches = [];
      const seen = new Set();
      for (const id of ids) {
        for (const connectorId of scene.connectorsOf(id)) {
          const el = scene.byId.get(connectorId);
          if (!el || removed.has(connectorId) || seen.has(connectorId) || !el.routed) continue;
          seen.add(connectorId);
          const loose = {};
          for (const end of ENDS) if (removed.has(el[`${end}BindId`])) loose[`${end}BindId`] = '';
          patches.push(asDrawn(el, loose));
        }
      }
      return patches;
    },
  };
}
