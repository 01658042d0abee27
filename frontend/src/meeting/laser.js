/**
 * The laser pointer: a tool that, while pressed, publishes a short trail in presence (never in
 * the document), and the trails store that every page keeps of everyone's trail (its own too)
 * and paints on the overlay, each point fading out LASER_FADE_MS after it arrived.
 */
import { LASER_FADE_MS, LASER_POINTS } from './signals.js';

/** Most points a trail keeps (a fast drag adds many per frame). */
const MAX_TRAIL_POINTS = 400;

/** Everyone's fading laser trails, keyed by client id. */
export class LaserTrails {
  constructor() {
    /** @type {Map<number, {color: string, lastN: number, points: Array<{x: number, y: number, t: number}>}>} */
    this.trails = new Map();
  }

  /**
   * Add the points of one trail numbered after the last ones seen (`n` numbers the last of
   * `pts`), stamped with the local time.
   */
  add(clientId, color, n, pts, now = performance.now()) {
    let trail = this.trails.get(clientId);
    if (!trail) {
      trail = { color, lastN: -1, points: [] };
      this.trails.set(clientId, trail);
    }
    trail.color = color;
    const fresh = Math.min(pts.length, n - trail.lastN);
    for (const p of pts.slice(pts.length - fresh)) trail.points.push({ x: p.x, y: p.y, t: now });
    if (trail.points.length > MAX_TRAIL_POINTS) trail.points.splice(0, trail.points.length - MAX_TRAIL_POINTS);
    trail.lastN = n;
  }

  /**
   * Take in the laser signals of the other participants; forget those who left (a trail
   * remembers the last point number seen, so a repeated state adds nothing).
   */
  update(peers, selfId, now = performance.now()) {
    const present = new Set([selfId, ...peers.map((p) => p.clientId)]);
    for (const clientId of this.trails.keys()) if (!present.has(clientId)) this.trails.delete(clientId);
    for (const peer of peers) {
      const laser = peer.signals.laser;
      if (laser) this.add(peer.clientId, peer.color, laser.n, laser.pts, now);
    }
  }

  /** Points still visible, across all trails. */
  visiblePoints(now = performance.now()) {
    let count = 0;
    for (const trail of this.trails.values()) count += trail.points.filter((p) => now - p.t < LASER_FADE_MS).length;
    return count;
  }

  /**
   * Paint every trail onto the overlay (after its own painting) and drop faded points.
   * @returns {boolean} whether a trail is still fading (paint again next frame)
   */
  paint(ctx, camera, now = performance.now()) {
    let alive = false;
    for (const trail of this.trails.values()) {
      trail.points = trail.points.filter((p) => now - p.t < LASER_FADE_MS);
      if (trail.points.length === 0) continue;
      alive = true;
      paintTrail(ctx, camera, trail, now);
    }
    return alive;
  }
}

function paintTrail(ctx, camera, trail, now) {
  const pts = trail.points.map((p) => ({ ...camera.toScreen(p.x, p.y), a: 1 - (now - p.t) / LASER_FADE_MS }));
  ctx.save();
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.strokeStyle = trail.color;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    ctx.globalAlpha = Math.max(0, b.a);
    ctx.lineWidth = 2 + 4 * b.a;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }
  const head = pts[pts.length - 1];
  ctx.globalAlpha = Math.max(0, head.a);
  ctx.fillStyle = trail.color;
  ctx.beginPath();
  ctx.arc(head.x, head.y, 4, 0, Math.PI * 2);
  ctx.fill();
  ctx.restore();
}

/**
 * The laser tool: press and drag to point; nothing is written to the board.
 * @param {{presence: import('../presence.js').Presence, trails: LaserTrails, me: () => {color: string},
 *          requestOverlay: () => void}} deps
 * @returns {import('../tools/tool.js').Tool}
 */
export function createLaserTool({ presence, trails, me, requestOverlay }) {
  let pressed = false;
  let n = -1;
  let recent = [];
  let clearTimer = 0;
  const add = (points) => {
    const pts = points.map((p) => [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10]);
    n += pts.length;
    recent = recent.concat(pts).slice(-LASER_POINTS);
    trails.add(presence.awareness.clientID, me().color, n, recent.map(([x, y]) => ({ x, y })));
    presence.setLaser({ n, pts: recent });
    requestOverlay();
  };
  const release = () => {
    if (!pressed) return;
    pressed = false;
    recent = [];
    // Kept while it fades, then withdrawn: a late joiner must not see an old trail.
    clearTimeout(clearTimer);
    clearTimer = setTimeout(() => presence.setLaser(null), LASER_FADE_MS);
  };
  return {
    name: 'laser',
    cursor: 'crosshair',
    onPointerDown(e) {
      pressed = true;
      clearTimeout(clearTimer);
      add([e]);
    },
    onPointerMove(e) {
      if (pressed) add(e.samples);
    },
    onPointerUp: release,
    onExit: release,
  };
}
