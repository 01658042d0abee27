/**
 * The Frames navigator: a list of the board's frames (top to bottom, then left to right, as
 * slides are read); a click zooms the view to that frame. Hidden while the board has none.
 */
import { h } from './dom.js';

const FIT_PADDING_PX = 24;

/**
 * @param {{onPick: (frame: {id: string, x: number, y: number, w: number, h: number}) => void}} handlers
 */
export function createFramesPanel({ onPick }) {
  const list = h('div.frames-list');
  const el = h('nav.frames-panel.panel', { 'aria-label': 'Frames', hidden: true }, [h('h3', {}, ['Frames']), list]);
  let shown = '';
  return {
    el,
    /** Refresh the list from the scene (cheap when nothing about the frames changed). */
    update(scene) {
      const frames = scene.ordered.filter((e) => e.type === 'frame' && e.known)
        .sort((a, b) => a.y - b.y || a.x - b.x || (a.id < b.id ? -1 : 1));
      const key = frames.map((f) => `${f.id}\u0000${f.name}\u0000${f.x},${f.y},${f.w},${f.h}`).join('\u0001');
      if (key === shown) return;
      shown = key;
      el.hidden = frames.length === 0;
      list.replaceChildren(...frames.map((frame) => h('button', {
        type: 'button', title: `Zoom to ${frame.name || 'frame'}`, dataset: { frameId: frame.id },
        onclick: () => onPick(frame),
      }, [frame.name || 'Untitled frame'])));
    },
  };
}

/** The world rectangle to fit for a frame (its box and the name above it). */
export function frameView(frame) {
  const pad = FIT_PADDING_PX;
  return { minX: frame.x - pad, minY: frame.y - pad - 20, maxX: frame.x + frame.w + pad, maxY: frame.y + frame.h + pad };
}
