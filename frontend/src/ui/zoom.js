/** Zoom controls: out, percentage (click: 100%), in, zoom to fit. */
import { h } from './dom.js';
import { ICONS } from './icons.js';

/** @param {{onZoom: (factor: number) => void, onFit: () => void, onReset: () => void}} handlers */
export function createZoomControls({ onZoom, onFit, onReset }) {
  const percent = h('button.zoom-percent', { type: 'button', title: 'Reset to 100% — Ctrl 0', onclick: onReset }, ['100%']);
  const el = h('div.zoom.panel', {}, [
    h('button.tool.small', { type: 'button', title: 'Zoom out — -', 'aria-label': 'Zoom out', html: ICONS.minus, onclick: () => onZoom(1 / 1.2) }),
    percent,
    h('button.tool.small', { type: 'button', title: 'Zoom in — +', 'aria-label': 'Zoom in', html: ICONS.plus, onclick: () => onZoom(1.2) }),
    h('button.tool.small', { type: 'button', title: 'Zoom to fit — Shift 1', 'aria-label': 'Zoom to fit', html: ICONS.fit, onclick: onFit }),
  ]);
  return {
    el,
    setZoom(zoom) {
      percent.textContent = `${Math.round(zoom * 100)}%`;
    },
  };
}
