/**
 * The static layer: background grid and every visible element, painted from the scene and camera.
 * A pure function of its inputs; the frame loop calls it only when the scene or camera changed.
 */
import { drawElement } from './shapes.js';

/**
 * @typedef {object} PaintStats
 * @property {number} drawn elements painted
 * @property {number} skipped elements that could not be drawn (unknown type or painter error)
 * @property {number} ms time spent painting
 */

/**
 * Paint the static layer.
 * @param {CanvasRenderingContext2D} ctx
 * @param {{scene: import('./scene.js').Scene, camera: import('../view/camera.js').Camera,
 *          dpr: number, gridColor: string, meta: {background: string, gridEnabled: boolean, gridSize: number},
 *          resources: {image: (fileId: string) => (CanvasImageSource | null),
 *                      ink?: (color: string) => string}}} input  ink: the theme's colours
 * @returns {PaintStats}
 */
export function paintStatic(ctx, { scene, camera, dpr, gridColor, meta, resources }) {
  const started = performance.now();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const ink = resources.ink ?? ((color) => color);
  const background = ink(meta.background === 'transparent' ? '#ffffff' : meta.background);
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.setTransform(dpr * camera.zoom, 0, 0, dpr * camera.zoom, -camera.x * camera.zoom * dpr,
    -camera.y * camera.zoom * dpr);
  const view = camera.viewRect();
  if (meta.gridEnabled) paintGrid(ctx, view, camera.zoom, gridColor, meta.gridSize);
  let drawn = 0;
  let skipped = 0;
  const detail = { ...resources, zoom: camera.zoom, background };
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const el of scene.visible(view)) {
    try {
      if (drawElement(ctx, el, detail)) drawn++;
      else skipped++;
    } catch (error) {
      skipped++;
      if (!el.cache.reported) {
        el.cache.reported = true;
        console.warn('syncboard: skipped element', el.id, error);
      }
    }
  }
  return { drawn, skipped, ms: performance.now() - started };
}

function paintGrid(ctx, view, zoom, gridColor, gridSize) {
  let step = gridSize;
  while (step * zoom < 16) step *= 4;
  const radius = 1.1 / zoom;
  ctx.fillStyle = gridColor;
  ctx.beginPath();
  const startX = Math.floor(view.minX / step) * step;
  const startY = Math.floor(view.minY / step) * step;
  for (let x = startX; x <= view.maxX; x += step) {
    for (let y = startY; y <= view.maxY; y += step) {
      ctx.moveTo(x + radius, y);
      ctx.arc(x, y, radius, 0, Math.PI * 2);
    }
  }
  ctx.fill();
}
