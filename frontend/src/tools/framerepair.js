/**
 * Frame membership after concurrent edits (shared/BOARD.md, "Frames"). A page decides `frameId`
 * on what it sees when its own move or resize ends (tools/attach.js `settle`, `reframe`). Two
 * such gestures made at once merge per field, so Bob moving a box away while Ann's resize takes
 * it in (or Bob moving a member into the corner Ann's resize cuts off) can leave the box's
 * `frameId` naming a frame whose box does not hold its centre.
 *
 * The repair: when another page writes an element's `frameId` (which it does only when its
 * move, resize, paste or repair ends: a settled state, never one in the middle of a drag; a
 * move or resize also writes it where it stays the same, for this), this page checks that
 * element if this page was the last to write the element's geometry or its frame's (`x`, `y`,
 * `w`, `h`: the last mover or resizer, as Yjs records who wrote each field). If its frame does
 * not hold its centre, the element leaves it for the topmost frame that does, or none: the
 * rule `reframe` applies to a frame's members, a function of the merged document only, so
 * every page that repairs writes the same value, and the pages converge. Locked elements keep
 * their frame (a frame moves without them). The repair is not an undo step; it waits while
 * this page is in a gesture of its own (whose end settles the same elements anyway).
 */
import { frameOf } from '../render/element.js';

/** How often a repair put off by an open gesture of this page is tried again, in ms. */
const RETRY_MS = 200;
const GEOMETRY = ['x', 'y', 'w', 'h'];

/**
 * Start watching the board for other pages' `frameId` writes.
 * @param {import('./tool.js').ToolApp} app
 * @param {(el: import('../render/element.js').El) => (import('../render/element.js').El | null)} frameAround
 *   the topmost frame whose box holds the element's centre (tools/attach.js)
 */
export function watchFrameMembership(app, frameAround) {
  const { board, scene } = app;
  const waiting = new Set();
  let scheduled = false;

  board.elements.observeDeep((events, transaction) => {
    if (transaction.local) return;
    for (const event of events) {
      if (event.path.length === 1 && event.keysChanged.has('frameId')) waiting.add(String(event.path[0]));
    }
    if (waiting.size > 0) schedule(0);
  });

  function schedule(ms) {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      if (board.inGesture) {
        schedule(RETRY_MS);
        return;
      }
      const ids = [...waiting];
      waiting.clear();
      check(ids);
    }, ms);
  }

  function check(ids) {
    if (board.readOnly) return;
    const patches = [];
    for (const id of ids) {
      const el = scene.byId.get(id);
      if (!el || el.type === 'frame' || el.locked || !el.frameId) continue;
      const frame = scene.byId.get(el.frameId);
      if (frame?.type !== 'frame' || holds(frame, el)) continue;
      if (!lastWroteGeometry(id) && !lastWroteGeometry(frame.id)) continue;
      patches.push([id, { frameId: frameAround(el)?.id ?? '' }]);
    }
    board.repair(patches);
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
