/**
 * Camera: where the viewport looks at the board. screen = (world - origin) * zoom, in CSS pixels.
 * Pure data plus conversions; input handlers move it and the frame loop repaints when `version`
 * changes.
 */

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 8;

export class Camera {
  constructor() {
    /** World coordinate at the top-left corner of the viewport. */
    this.x = 0;
    this.y = 0;
    this.zoom = 1;
    /** Viewport size in CSS pixels. */
    this.width = 1;
    this.height = 1;
    /** Bumped on every change; painters compare it to decide whether to repaint. */
    this.version = 0;
  }

  /** @returns {{x: number, y: number}} the world point under screen point (sx, sy). */
  toWorld(sx, sy) {
    return { x: this.x + sx / this.zoom, y: this.y + sy / this.zoom };
  }

  /** @returns {{x: number, y: number}} the screen point of world point (wx, wy). */
  toScreen(wx, wy) {
    return { x: (wx - this.x) * this.zoom, y: (wy - this.y) * this.zoom };
  }

  /** The visible world rectangle as {minX, minY, maxX, maxY}. */
  viewRect() {
    return {
      minX: this.x,
      minY: this.y,
      maxX: this.x + this.width / this.zoom,
      maxY: this.y + this.height / this.zoom,
    };
  }

  setSize(width, height) {
    if (width === this.width && height === this.height) return;
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.version++;
  }

  /** Pan by a screen-pixel delta. */
  panBy(dxScreen, dyScreen) {
    this.x -= dxScreen / this.zoom;
    this.y -= dyScreen / this.zoom;
    this.version++;
  }

  /** Zoom by `factor`, keeping the world point under screen point (sx, sy) fixed. */
  zoomAt(factor, sx, sy) {
    const next = clampZoom(this.zoom * factor);
    const anchor = this.toWorld(sx, sy);
    this.zoom = next;
    this.x = anchor.x - sx / next;
    this.y = anchor.y - sy / next;
    this.version++;
  }

  /** Center the view on world point (wx, wy) at `zoom`. */
  centerOn(wx, wy, zoom = this.zoom) {
    this.zoom = clampZoom(zoom);
    this.x = wx - this.width / 2 / this.zoom;
    this.y = wy - this.height / 2 / this.zoom;
    this.version++;
  }

  /** Fit a world rectangle into the viewport with a margin in screen pixels. */
  fit(rect, marginPx = 48) {
    const w = Math.max(1, rect.maxX - rect.minX);
    const h = Math.max(1, rect.maxY - rect.minY);
    const zoom = Math.min(
      (this.width - 2 * marginPx) / w,
      (this.height - 2 * marginPx) / h,
      2,
    );
    this.centerOn((rect.minX + rect.maxX) / 2, (rect.minY + rect.maxY) / 2, zoom);
  }
}

/** Clamp a zoom factor into [MIN_ZOOM, MAX_ZOOM]. */
export function clampZoom(zoom) {
  if (!Number.isFinite(zoom)) return 1;
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}
