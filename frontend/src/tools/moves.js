/**
 * Moves that are not a drag: arrow-key nudges and align/distribute (issue 13). They go the way
 * a mouse drag goes (tools/select.js with tools/attach.js): a moved frame carries its content,
 * a connector moved without its targets comes loose from them, a routed connector moves by its
 * stored origin, and the moved elements then join the frame their centre lies in, or leave
 * theirs. Locked elements stay. Each call is one undo step.
 */

/**
 * Move the elements of `ids` by (dx, dy): an arrow-key nudge.
 * @param {import('./tool.js').ToolApp} app
 * @param {Iterable<string>} ids
 * @param {number} dx
 * @param {number} dy
 */
export function nudge(app, ids, dx, dy) {
  moveBy(app, new Map([...ids].map((id) => [id, { dx, dy }])));
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
    for (const [id, origin] of origins) {
      const shift = shifts.get(id) ?? shifts.get(scene.byId.get(id)?.frameId ?? '');
      if (shift) patches.push([id, { x: origin.x + shift.dx, y: origin.y + shift.dy }]);
    }
    board.update(patches);
    app.attach.settle(origins.keys());
  } finally {
    board.endGesture();
  }
}
