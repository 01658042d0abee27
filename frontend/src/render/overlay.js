/**
 * The overlay layer: local selection with handles, the marquee, and other people's cursors and
 * selections in their colours. Cheap to repaint; presence changes repaint only this layer.
 */
import { cornersOf, handlesFor, isTwoPointLine, HANDLE_PX } from './handles.js';

const ACCENT = '#4f6df5';

/**
 * @typedef {object} Peer
 * @property {string} name
 * @property {string} color
 * @property {{x: number, y: number} | null} cursor world coordinates
 * @property {string[]} selection
 */

/**
 * Paint the overlay.
 * @param {CanvasRenderingContext2D} ctx
 * @param {{scene: import('./scene.js').Scene, camera: import('../view/camera.js').Camera,
 *          dpr: number, selection: Set<string>, marquee: object | null, peers: Peer[],
 *          showHandles: boolean, eraserTrail: Array<{x: number, y: number}>,
 *          bindTarget?: string | null}} input  bindTarget: the shape a dragged arrow end would bind to
 */
export function paintOverlay(ctx, input) {
  const { scene, camera, dpr, selection, marquee, peers, showHandles, eraserTrail } = input;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const toScreen = (p) => camera.toScreen(p.x ?? p[0], p.y ?? p[1]);

  for (const peer of peers) {
    for (const id of peer.selection) {
      const el = scene.byId.get(id);
      if (el) outline(ctx, cornersOf(el).map(toScreen), peer.color, 2, [5, 4]);
    }
  }
  for (const id of selection) {
    const el = scene.byId.get(id);
    if (el && !(isTwoPointLine(el) && selection.size === 1 && showHandles)) {
      outline(ctx, cornersOf(el).map(toScreen), ACCENT, 1.5, []);
    }
  }
  if (selection.size > 1) {
    const box = scene.contentBounds(selection);
    if (box) {
      const a = camera.toScreen(box.minX, box.minY);
      const b = camera.toScreen(box.maxX, box.maxY);
      outline(ctx, [a, { x: b.x, y: a.y }, b, { x: a.x, y: b.y }], ACCENT, 1, [4, 4]);
    }
  }
  if (showHandles && selection.size === 1) {
    const el = scene.byId.get([...selection][0]);
    if (el && !el.locked) paintHandles(ctx, el, camera);
  }
  const target = input.bindTarget ? scene.byId.get(input.bindTarget) : null;
  if (target) outline(ctx, cornersOf(target).map(toScreen), ACCENT, 3, []); // where an arrow end binds
  if (marquee) {
    const a = camera.toScreen(marquee.minX, marquee.minY);
    const b = camera.toScreen(marquee.maxX, marquee.maxY);
    ctx.fillStyle = 'rgba(79,109,245,0.08)';
    ctx.fillRect(a.x, a.y, b.x - a.x, b.y - a.y);
    outline(ctx, [a, { x: b.x, y: a.y }, b, { x: a.x, y: b.y }], ACCENT, 1, []);
  }
  if (eraserTrail.length > 1) {
    ctx.strokeStyle = 'rgba(120,120,120,0.35)';
    ctx.lineWidth = 6;
    ctx.lineCap = 'round';
    ctx.beginPath();
    eraserTrail.forEach((p, i) => {
      const s = camera.toScreen(p.x, p.y);
      if (i === 0) ctx.moveTo(s.x, s.y);
      else ctx.lineTo(s.x, s.y);
    });
    ctx.stroke();
  }
  for (const peer of peers) {
    if (peer.cursor) paintCursor(ctx, camera.toScreen(peer.cursor.x, peer.cursor.y), peer);
  }
}

function outline(ctx, pts, color, width, dash) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dash);
  ctx.beginPath();
  pts.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
  ctx.closePath();
  ctx.stroke();
  ctx.restore();
}

function paintHandles(ctx, el, camera) {
  const handles = handlesFor(el, camera.zoom);
  const rotate = handles.find((h) => h.name === 'rotate');
  const top = handles.find((h) => h.name === 'n');
  ctx.save();
  ctx.strokeStyle = ACCENT;
  ctx.lineWidth = 1;
  if (rotate && top) {
    const r = camera.toScreen(rotate.x, rotate.y);
    const t = camera.toScreen(top.x, top.y);
    ctx.beginPath();
    ctx.moveTo(t.x, t.y);
    ctx.lineTo(r.x, r.y);
    ctx.stroke();
  }
  ctx.fillStyle = '#ffffff';
  for (const h of handles) {
    const s = camera.toScreen(h.x, h.y);
    ctx.beginPath();
    if (h.name === 'rotate' || h.name === 'p0' || h.name === 'p1') ctx.arc(s.x, s.y, HANDLE_PX / 2 + 1, 0, Math.PI * 2);
    else ctx.rect(s.x - HANDLE_PX / 2, s.y - HANDLE_PX / 2, HANDLE_PX, HANDLE_PX);
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
}

function paintCursor(ctx, s, peer) {
  ctx.save();
  ctx.translate(s.x, s.y);
  ctx.fillStyle = peer.color;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(0, 0);
  ctx.lineTo(0, 17);
  ctx.lineTo(4.5, 13);
  ctx.lineTo(8, 20);
  ctx.lineTo(10.5, 19);
  ctx.lineTo(7, 12);
  ctx.lineTo(12.5, 12);
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
  ctx.font = '600 12px ui-sans-serif, system-ui, "DejaVu Sans", sans-serif';
  const label = peer.name.slice(0, 32);
  const width = ctx.measureText(label).width + 12;
  ctx.fillStyle = peer.color;
  ctx.beginPath();
  ctx.roundRect(12, 20, width, 20, 6);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  ctx.fillText(label, 18, 30.5);
  ctx.restore();
}
