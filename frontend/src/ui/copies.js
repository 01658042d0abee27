/**
 * What a copy of an element holds (the clipboard's copy and cut, Ctrl/⌘ D): its stored fields,
 * except that a routed connector (a line or arrow with a usable binding, or elbow routing) is
 * copied where the board draws it. Its stored points can be stale (they are where it was last
 * drawn, not where its targets have moved since), so a copy of them would land elsewhere.
 *
 * The drawn geometry takes the form the JSON export gives it (shared/BOARD.md, "Connectors as
 * drawn"): `x, y` its first routed point, `points` the route relative to it (starting 0, 0),
 * `w, h` their box, `angle` 0. Bindings and anchors are copied as stored: the paste binds the
 * copy to the copies of its targets, or frees the ends whose target was not copied
 * (tools/attach.js `copied`), and either way it is drawn where the original was, offset as
 * the rest of the paste.
 */

/**
 * @param {import('yjs').Map<any>} ymap the element in the document
 * @param {import('../render/element.js').El | undefined} drawn its scene element (routed points)
 * @returns {Record<string, any>} plain fields (`points` an array of numbers, texts strings)
 */
export function copyFields(ymap, drawn) {
  const plain = ymap.toJSON();
  if (!drawn?.routed || drawn.points.length < 4) return plain;
  const [x0, y0] = drawn.points;
  return {
    ...plain,
    x: drawn.x + x0,
    y: drawn.y + y0,
    w: drawn.w,
    h: drawn.h,
    angle: 0,
    points: drawn.points.map((v, i) => v - (i % 2 === 0 ? x0 : y0)),
  };
}
