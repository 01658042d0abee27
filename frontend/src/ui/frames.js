/**
 * The Frames navigator: a list of the board's frames (top to bottom, then left to right, as
 * slides are read); a click zooms the view to that frame, the buttons beside it rename it or
 * download it alone as SVG. Hidden while the board has none.
 */
import { h } from './dom.js';

const FIT_PADDING_PX = 24;

/**
 * @typedef {{id: string, name: string, x: number, y: number, w: number, h: number}} FrameInfo
 * @param {{onPick: (frame: FrameInfo) => void, onRename: ((frame: FrameInfo) => void) | null,
 *          onExport: (frame: FrameInfo) => void}} handlers `onRename` null: a view-only board
 */
export function createFramesPanel({ onPick, onRename, onExport }) {
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
      list.replaceChildren(...frames.map((frame) => h('div.frame-row', { dataset: { frameId: frame.id } }, [
        h('button.frame-name', {
          type: 'button', title: `Zoom to ${frame.name || 'frame'}`, onclick: () => onPick(frame),
        }, [frame.name || 'Untitled frame']),
        onRename && h('button.frame-rename', {
          type: 'button', title: 'Rename frame', 'aria-label': 'Rename frame', onclick: () => onRename(frame),
        }, ['✎']),
        h('button.frame-export', {
          type: 'button', title: 'Download this frame as SVG', 'aria-label': 'Download frame as SVG',
          onclick: () => onExport(frame),
        }, ['⤓']),
      ])));
    },
  };
}

/** The world rectangle to fit for a frame (its box and the name above it). */
export function frameView(frame) {
  const pad = FIT_PADDING_PX;
  return { minX: frame.x - pad, minY: frame.y - pad - 20, maxX: frame.x + frame.w + pad, maxY: frame.y + frame.h + pad };
}
