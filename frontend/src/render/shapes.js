/**
 * Painters: one pure function per element type, drawing a plain El (render/element.js) on a 2D
 * context already transformed to world coordinates. Paths and wrapped text lines are memoized on
 * `el.cache`, which is dropped whenever the element changes. Text is drawn in the bundled font,
 * without kerning, and broken into lines by its advance widths (render/textmetrics.js), so the
 * exporters break it at the same places.
 */
import { frameOf, LABEL_TYPES } from './element.js';
import { drawLabel } from './labels.js';
import { FONT_FAMILY, textWidth, wrapLines } from './textmetrics.js';

export { FONT_FAMILY };
const STICKY_PADDING = 14;
const LINE_HEIGHT = 1.25;
/** Below this on-screen font size text is drawn as grey bars (level of detail for big boards). */
const MIN_READABLE_FONT_PX = 4;
/** Below this zoom sticky notes are drawn without their (costly) shadow. */
const SHADOW_MIN_ZOOM = 0.4;
const NO_DASH = [];
/** A frame's outline width and its name's size, gap above the frame and colour (board units). */
const FRAME_STROKE_WIDTH = 1;
const FRAME_NAME_SIZE = 14;
const FRAME_NAME_GAP = 6;
const FRAME_NAME_COLOR = '#868e96';

/**
 * The dash pattern of a `strokeStyle` (shared/board.schema.json): dashed 4w/3w, dotted 0/2w
 * (round caps make the dots), w the stroke width but at least 1.
 */
export function dashPattern(style, strokeWidth) {
  const w = Math.max(1, strokeWidth);
  if (style === 'dashed') return [4 * w, 3 * w];
  if (style === 'dotted') return [0, 2 * w];
  return NO_DASH;
}

/**
 * Draw one element. Throws on a painter bug; the caller skips and counts it.
 * @param {CanvasRenderingContext2D} ctx
 * @param {import('./element.js').El} el
 * @param {{image: (fileId: string) => (CanvasImageSource | null), editingId?: string | null,
 *          zoom: number, ink?: (color: string) => string}} resources loaded images; the element
 *   being edited in place has its text left to the editor; the zoom picks the level of detail;
 *   `ink` maps each colour as the theme draws it (render/palette.js), images are never mapped
 */
export function drawElement(ctx, el, resources) {
  const painter = PAINTERS[el.type];
  if (!painter || !el.known) return false;
  // save/restore per element is costly on big boards: only a rotated element needs it.
  if (el.angle) {
    const f = frameOf(el);
    const cx = f.x + f.w / 2;
    const cy = f.y + f.h / 2;
    ctx.save();
    ctx.translate(cx, cy);
    ctx.rotate(el.angle);
    ctx.translate(-cx, -cy);
  }
  ctx.globalAlpha = el.opacity;
  ctx.lineWidth = el.strokeWidth;
  const ink = resources.ink ?? sameColor;
  ctx.strokeStyle = ink(el.stroke);
  // setLineDash only when the pattern changes: most boards are all solid.
  const dashKey = el.strokeStyle === 'solid' ? 'solid' : `${el.strokeStyle}:${el.strokeWidth}`;
  if (resources.dashKey !== dashKey) {
    ctx.setLineDash(dashPattern(el.strokeStyle, el.strokeWidth));
    resources.dashKey = dashKey;
  }
  try {
    painter(ctx, el, resources, ink);
    if (el.label && LABEL_TYPES.has(el.type) && resources.editingId !== el.id) {
      drawLabel(ctx, el, ink, resources.background ?? '#ffffff');
    }
  } finally {
    if (el.angle) ctx.restore();
  }
  return true;
}

/**
 * A text element's natural size {w, h} at its font size, from the bundled font's advances
 * (render/textmetrics.js), as the exporters measure it.
 */
export function measureText(text, fontSize) {
  let w = 0;
  const lines = text.split('\n');
  for (const line of lines) w = Math.max(w, textWidth(line, fontSize));
  return { w: Math.ceil(w) + 4, h: Math.ceil(lines.length * fontSize * LINE_HEIGHT) };
}

const PAINTERS = {
  rect(ctx, el, _resources, ink) {
    const path = memo(el, 'path', () => {
      const p = new Path2D();
      const r = Math.min(8, Math.abs(el.w) / 6, Math.abs(el.h) / 6);
      p.roundRect(el.x, el.y, el.w, el.h, r);
      return p;
    });
    fillAndStroke(ctx, el, path, ink);
  },
  ellipse(ctx, el, _resources, ink) {
    const path = memo(el, 'path', () => {
      const p = new Path2D();
      p.ellipse(el.x + el.w / 2, el.y + el.h / 2, el.w / 2, el.h / 2, 0, 0, Math.PI * 2);
      return p;
    });
    fillAndStroke(ctx, el, path, ink);
  },
  stroke(ctx, el, _resources, ink) {
    const pts = el.points;
    if (pts.length === 2) {
      ctx.fillStyle = ink(el.stroke);
      ctx.beginPath();
      ctx.arc(el.x + pts[0], el.y + pts[1], el.strokeWidth / 2, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    ctx.stroke(memo(el, 'path', () => smoothPath(el.x, el.y, pts)));
  },
  line(ctx, el) {
    ctx.stroke(memo(el, 'path', () => polyline(el.x, el.y, el.points)));
  },
  arrow(ctx, el) {
    if (el.strokeStyle === 'solid') { // one path, one stroke call: line and heads together
      ctx.stroke(memo(el, 'path', () => arrowHeads(polyline(el.x, el.y, el.points), el)));
      return;
    }
    ctx.stroke(memo(el, 'path', () => polyline(el.x, el.y, el.points)));
    ctx.save();
    ctx.setLineDash(NO_DASH); // arrowheads are always solid
    ctx.stroke(memo(el, 'heads', () => arrowHeads(new Path2D(), el)));
    ctx.restore();
  },
  diamond(ctx, el, _resources, ink) {
    const path = memo(el, 'path', () => {
      const p = new Path2D();
      p.moveTo(el.x + el.w / 2, el.y);
      p.lineTo(el.x + el.w, el.y + el.h / 2);
      p.lineTo(el.x + el.w / 2, el.y + el.h);
      p.lineTo(el.x, el.y + el.h / 2);
      p.closePath();
      return p;
    });
    fillAndStroke(ctx, el, path, ink);
  },
  frame(ctx, el, _resources, ink) {
    if (el.fill !== 'transparent') {
      ctx.fillStyle = ink(el.fill);
      ctx.fillRect(el.x, el.y, el.w, el.h);
    }
    ctx.lineWidth = FRAME_STROKE_WIDTH;
    ctx.strokeRect(el.x, el.y, el.w, el.h);
    if (!el.name) return;
    ctx.fillStyle = ink(FRAME_NAME_COLOR);
    ctx.font = `${FRAME_NAME_SIZE}px ${FONT_FAMILY}`;
    ctx.fontKerning = 'none';
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'left';
    ctx.fillText(el.name, el.x, el.y - FRAME_NAME_GAP);
  },
  text(ctx, el, resources, ink) {
    if (resources.editingId === el.id) return;
    ctx.fillStyle = ink(el.stroke);
    const lines = memo(el, 'lines', () => el.text.split('\n'));
    if (el.fontSize * resources.zoom < MIN_READABLE_FONT_PX) {
      drawBars(ctx, lines, el.x, el.y, el.fontSize);
      return;
    }
    ctx.font = `${el.fontSize}px ${FONT_FAMILY}`;
    ctx.fontKerning = 'none';
    ctx.textBaseline = 'top';
    drawLines(ctx, lines, el.x, el.y, el.w, el.fontSize, el.align);
  },
  sticky(ctx, el, resources, ink) {
    ctx.save();
    if (resources.zoom >= SHADOW_MIN_ZOOM) {
      ctx.shadowColor = 'rgba(0,0,0,0.18)';
      ctx.shadowBlur = 8;
      ctx.shadowOffsetY = 3;
    }
    ctx.fillStyle = ink(el.fill);
    ctx.fillRect(el.x, el.y, el.w, el.h);
    ctx.restore();
    if (resources.editingId === el.id) return;
    ctx.fillStyle = ink(el.stroke);
    const inner = Math.max(0, el.w - 2 * STICKY_PADDING);
    if (el.fontSize * resources.zoom < MIN_READABLE_FONT_PX) {
      drawBars(ctx, el.cache.lines ?? el.text.split('\n'), el.x + STICKY_PADDING, el.y + STICKY_PADDING,
        el.fontSize, inner);
      return;
    }
    ctx.font = `${el.fontSize}px ${FONT_FAMILY}`;
    ctx.fontKerning = 'none';
    ctx.textBaseline = 'top';
    const lines = memo(el, 'lines', () => wrapLines(el.text, inner, el.fontSize));
    ctx.save();
    ctx.beginPath();
    ctx.rect(el.x, el.y, el.w, el.h);
    ctx.clip();
    drawLines(ctx, lines, el.x + STICKY_PADDING, el.y + STICKY_PADDING, inner, el.fontSize, el.align);
    ctx.restore();
  },
  image(ctx, el, resources) {
    const img = el.fileId ? resources.image(el.fileId) : null;
    if (img) {
      ctx.drawImage(img, el.x, el.y, el.w, el.h);
      return;
    }
    ctx.save();
    ctx.fillStyle = 'rgba(128,128,128,0.15)';
    ctx.fillRect(el.x, el.y, el.w, el.h);
    ctx.setLineDash([6, 6]);
    ctx.strokeStyle = '#888';
    ctx.lineWidth = 1;
    ctx.strokeRect(el.x, el.y, el.w, el.h);
    ctx.restore();
  },
};

function sameColor(color) {
  return color;
}

function fillAndStroke(ctx, el, path, ink) {
  if (el.fill !== 'transparent') {
    ctx.fillStyle = ink(el.fill);
    ctx.fill(path);
  }
  if (el.strokeWidth > 0 && el.stroke !== 'transparent') ctx.stroke(path);
}

function drawLines(ctx, lines, x, y, width, fontSize, align) {
  const step = fontSize * LINE_HEIGHT;
  ctx.textAlign = align;
  const ax = align === 'center' ? x + width / 2 : align === 'right' ? x + width : x;
  lines.forEach((line, i) => ctx.fillText(line, ax, y + i * step));
}

/** Stand-ins for unreadably small text: one translucent bar per line, about as long as it. */
function drawBars(ctx, lines, x, y, fontSize, maxWidth = Infinity) {
  ctx.save();
  ctx.globalAlpha *= 0.35;
  lines.forEach((line, i) => {
    const width = Math.min(maxWidth, line.length * fontSize * 0.5);
    if (width > 0) ctx.fillRect(x, y + i * fontSize * LINE_HEIGHT, width, fontSize * 0.8);
  });
  ctx.restore();
}

function memo(el, key, build) {
  if (!(key in el.cache)) el.cache[key] = build();
  return el.cache[key];
}

/** A freehand path: quadratic curves through the midpoints of consecutive points. */
function smoothPath(ox, oy, pts) {
  const p = new Path2D();
  p.moveTo(ox + pts[0], oy + pts[1]);
  const n = pts.length / 2;
  if (n === 2) {
    p.lineTo(ox + pts[2], oy + pts[3]);
    return p;
  }
  for (let i = 1; i < n - 1; i++) {
    const cx = ox + pts[2 * i];
    const cy = oy + pts[2 * i + 1];
    const nx = ox + pts[2 * i + 2];
    const ny = oy + pts[2 * i + 3];
    p.quadraticCurveTo(cx, cy, (cx + nx) / 2, (cy + ny) / 2);
  }
  p.lineTo(ox + pts[2 * n - 2], oy + pts[2 * n - 1]);
  return p;
}

function polyline(ox, oy, pts) {
  const p = new Path2D();
  for (let i = 0; i + 1 < pts.length; i += 2) {
    if (i === 0) p.moveTo(ox + pts[0], oy + pts[1]);
    else p.lineTo(ox + pts[i], oy + pts[i + 1]);
  }
  return p;
}

/** Add an arrow's heads (as its arrowStart/arrowEnd say) to `path`; returns the path. */
function arrowHeads(path, el) {
  const pts = el.points;
  const n = pts.length;
  const size = Math.max(10, el.strokeWidth * 4);
  if (el.arrowEnd && n >= 4) {
    arrowHead(path, el.x + pts[n - 4], el.y + pts[n - 3], el.x + pts[n - 2], el.y + pts[n - 1], size);
  }
  if (el.arrowStart && n >= 4) arrowHead(path, el.x + pts[2], el.y + pts[3], el.x + pts[0], el.y + pts[1], size);
  return path;
}

function arrowHead(path, fromX, fromY, toX, toY, size) {
  const angle = Math.atan2(toY - fromY, toX - fromX);
  const spread = Math.PI / 7;
  path.moveTo(toX - size * Math.cos(angle - spread), toY - size * Math.sin(angle - spread));
  path.lineTo(toX, toY);
  path.lineTo(toX - size * Math.cos(angle + spread), toY - size * Math.sin(angle + spread));
}
