/**
 * Frame membership after concurrent edits (shared/BOARD.md, "Frames"). A page decides `frameId`
 * on what it sees when its own move or resize ends (tools/attach.js `settle`, `reframe`). Two
 * such gestures made at once merge per field, so Bob moving a box away while Ann's resize takes
 * it in (or Bob moving a member into the corner Ann's resize cuts off) can leave the box's
 * `frameId` naming a frame whose box does not hold its centre. So can an undo or redo of a move
 * or resize after someone else moved the frame or the element.
 *
 * The check: when another page writes an element's `frameId` (which it does only when its
 * move, resize, paste or repair ends: a settled state, never one in the middle of a drag; a
 * move writes it on every element it moved, even where it stays the same, and a move or resize
 * of a frame writes the frame's own, for this), when elements arrive from elsewhere (a load),
 * and after this page's own undo or redo, this page checks the elements written (the members of
 * a frame written). One whose frame does not hold its centre leaves it for the topmost frame
 * that does, or none: the rule `reframe` applies to a frame's members. One whose `frameId` was
 * just written `''` (or a name of no frame) while a frame holds its centre joins the topmost
 * such frame: the rule `settle` applies to an element moved there, and no rule frees an element
 * that a frame holds. Both are functions of the merged document only, so every page that
 * repairs writes the same value, and the pages converge. The second case is a repair made on
 * another page's drag half done: a bystander frees a member that Bob holds outside its frame
 * for longer than `STANDBY_MS`; Bob brings it back and lets go, his page confirming the frame
 * before the repair reached it; where the two writes merge to the repair's `''`, each page
 * checks the member when the other's write arrives (a write that loses the merge still reports
 * the key), and the page that wrote its geometry or its frame's puts it back at once (the others
 * after their standby, if it is still free). An element that lies free in
 * a frame's box without such a write (imported so, or a frame moved over it) is left free: it
 * was never held (export and the Frames navigator go by `frameId`). Locked elements keep their
 * frame, or none (a frame moves without them).
 *
 * Who repairs: at once the page that last wrote the element's geometry or its frame's (`x`,
 * `y`, `w`, `h`: the mover or resizer in the dispute, as Yjs records who wrote each field, and
 * the page whose undo restored them); any other page after `STANDBY_MS`, checking again first,
 * so that it writes only if that page is gone (closed before the other change reached it).
 * A repair is written only where the membership is inconsistent and leaves it consistent, so
 * repairs do not set off more repairs: the pages that see the repair find nothing to do. The
 * repair is not an undo step; it waits while this page is in a gesture of its own (whose end
 * settles the same elements anyway).
 */
import { frameOf } from '../render/element.js';

/** How often a repair put off by an open gesture of this page is tried again, in ms. */
const RETRY_MS = 200;
/** How long a page not involved in the dispute leaves the repair to the pages that are, in ms. */
export const STANDBY_MS = 1500;
const GEOMETRY = ['x', 'y', 'w', 'h'];

/**
 * Start watching the board for other pages' `frameId` writes and this page's undo and redo.
 * @param {import('./tool.js').ToolApp} app
 * @param {(el: import('../render/element.js').El, frames: Array<import('../render/element.js').El>) =>
 *   (import('../render/element.js').El | null)} frameAround the topmost of `frames` (topmost first)
 *   whose box holds the element's centre (tools/attach.js)
 */
export function watchFrameMembership(app, frameAround) {
  const { board, scene } = app;
  const waiting = new Set();
  const standing = new Set();
  /** Of `waiting` and `standing`: those whose `frameId` was written (a decision, see `check`). */
  const decided = new Set();
  const timers = { now: null, standby: null };

  board.elements.observeDeep((events, transaction) => {
    const undo = transaction.origin === board.undoManager;
    if (transaction.local && !undo) return;
    for (const event of events) {
      if (event.path.length === 0) {
        for (const id of event.keysChanged) waiting.add(String(id)); // added (a load, an undone delete)
      } else if (event.path.length === 1) {
        const keys = event.keysChanged;
        const id = String(event.path[0]);
        if (keys.has('frameId')) decided.add(id);
        if (keys.has('frameId') || (undo && GEOMETRY.some((key) => keys.has(key)))) waiting.add(id);
      }
    }
    if (waiting.size > 0) schedule('now', 0);
  });

  function schedule(which, ms) {
    if (timers[which] !== null) return;
    timers[which] = setTimeout(() => {
      timers[which] = null;
      if (board.inGesture) {
        schedule(which, RETRY_MS);
        return;
      }
      const set = which === 'now' ? waiting : standing;
      const ids = [...set];
      set.clear();
      check(ids, which === 'standby');
    }, ms);
  }

  /** Repair the inconsistent ones of `ids` (a frame: its members); put off those of others. */
  function check(ids, anyone) {
    if (board.readOnly) return;
    scene.refresh();
    const els = new Set();
    const written = new Set();
    for (const id of ids) {
      const el = scene.byId.get(id);
      if (el?.type === 'frame') written.add(id);
      else if (el) els.add(el);
    }
    if (written.size > 0) for (const el of scene.ordered) if (written.has(el.frameId)) els.add(el); // their members
    const frames = scene.ordered.filter((el) => el.type === 'frame').reverse(); // topmost first
    const patches = [];
    for (const el of els) {
      const wasDecided = decided.delete(el.id);
      if (el.type === 'frame' || el.locked) continue;
      const named = el.frameId ? scene.byId.get(el.frameId) : null;
      const member = named?.type === 'frame';
      if (member && holds(named, el)) continue;
      if (!member && !wasDecided) continue; // free, and no one just decided so: it may lie in a frame's box
      const around = frameAround(el, frames);
      if (!member && !around) continue;
      if (anyone || lastWroteGeometry(el.id) || (member && lastWroteGeometry(named.id)) || (around && lastWroteGeometry(around.id))) {
        patches.push([el.id, { frameId: around?.id ?? '' }]);
      } else {
        standing.add(el.id);
        if (wasDecided) decided.add(el.id);
      }
    }
    for (const id of ids) if (!standing.has(id)) decided.delete(id); // gone, or a frame
    board.repair(patches);
    if (standing.size > 0) schedule('standby', STANDBY_MS);
  }

  /**
   * Whether this page wrote the current value of one of the element's geometry fields (Yjs
   * keeps, per map key, the item holding the value and the client that wrote it).
   */
  function lastWroteGeometry(id) {
    const ymap = board.get(id);
    const mine = board.doc.clientID;
    return GEOMETRY.some((key) => ymap?._map.get(key)?.id.client === mine);
  }
}

/** Whether the frame's box holds the centre of `el`, as `frameAround` tests it. */
export function holds(frame, el) {
  const f = frameOf(el);
  const cx = f.x + f.w / 2;
  const cy = f.y + f.h / 2;
  return cx >= frame.x && cx <= frame.x + frame.w && cy >= frame.y && cy <= frame.y + frame.h;
}
