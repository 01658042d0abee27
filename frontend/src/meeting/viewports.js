/**
 * Others' viewports: where each participant is looking, as a faint outline in their colour on
 * the overlay (shown while the toggle is on), and the world rectangle a published view covers.
 */

/**
 * The world rectangle a participant's view covers, or null for a view without a size (older
 * pages publish only centre and zoom).
 * @param {{x: number, y: number, zoom: number, w?: number, h?: number} | null} view
 */
export function viewRect(view) {
  if (!view || !(view.w > 0) || !(view.h > 0) || !(view.zoom > 0)) return null;
  const halfW = Math.min(view.w, 100000) / 2 / view.zoom;
  const halfH = Math.min(view.h, 100000) / 2 / view.zoom;
  return { minX: view.x - halfW, minY: view.y - halfH, maxX: view.x + halfW, maxY: view.y + halfH };
}

/**
 * Paint the outline of each peer's viewport with its name.
 * @param {CanvasRenderingContext2D} ctx overlay context (CSS-pixel transform)
 * @param {import('../view/camera.js').Camera} camera
 * @param {import('../presence.js').Participant[]} peers
 */
export function paintViewports(ctx, camera, peers) {
  ctx.save();
  ctx.font = '600 11px ui-sans-serif, system-ui, "DejaVu Sans", sans-serif';
  ctx.textBaseline = 'bottom';
  for (const peer of peers) {
    const rect = viewRect(peer.view);
    if (!rect) continue;
    const a = camera.toScreen(rect.minX, rect.minY);
    const b = camera.toScreen(rect.maxX, rect.maxY);
    ctx.globalAlpha = 0.07;
    ctx.fillStyle = peer.color;
    ctx.fillRect(a.x, a.y, b.x - a.x, b.y - a.y);
    ctx.globalAlpha = 0.55;
    ctx.strokeStyle = peer.color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(a.x, a.y, b.x - a.x, b.y - a.y);
    ctx.globalAlpha = 0.8;
    ctx.fillText(`${peer.name.slice(0, 32)}'s view`, a.x + 4, a.y - 3);
  }
  ctx.restore();
}
