/**
 * Colour picker beyond the palette: a hex field (#rgb, #rgba, #rrggbb, #rrggbbaa, as the schema
 * allows), the browser's colour well, and the colours this person picked recently (kept in
 * localStorage, shared by every board and every picker). Mounted into a style panel row.
 */
import { h } from './dom.js';

const COLOR_RE = /^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|transparent)$/;
const RECENT_KEY = 'syncboard:recentColors';
const MAX_RECENT = 8;

/** The recently picked colours, newest first (only valid ones). */
export function recentColors() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((c) => typeof c === 'string' && COLOR_RE.test(c)).slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

/** Put `color` first in the recent colours. */
export function rememberColor(color) {
  const list = [color, ...recentColors().filter((c) => c.toLowerCase() !== color.toLowerCase())];
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, MAX_RECENT)));
  } catch {
    // storage full or disabled: the picker still works, it just forgets
  }
}

/**
 * @param {{key: string, label: string, onPick: (color: string) => void}} options `key` is the
 *   style field (stroke, fill); `onPick` gets a valid schema colour
 */
export function createColorPicker({ key, label, onPick }) {
  const recent = h('div.swatches.recent-colors', { 'aria-label': `Recent ${label} colours` });
  const hex = h('input.hex-input', {
    type: 'text', maxlength: '9', placeholder: '#rrggbb', spellcheck: 'false',
    'aria-label': `${label} colour, hex`, dataset: { colorKey: key },
  });
  const well = h('input.color-well', { type: 'color', 'aria-label': `${label} colour picker` });
  const pick = (color) => {
    rememberColor(color);
    onPick(color);
    renderRecent();
  };
  hex.addEventListener('keydown', (event) => {
    event.stopPropagation(); // typing a hex code must not switch tools
    if (event.key !== 'Enter') return;
    const value = hex.value.trim();
    const color = value.startsWith('#') || value === 'transparent' ? value : `#${value}`;
    if (COLOR_RE.test(color)) {
      hex.classList.remove('invalid');
      pick(color);
    } else {
      hex.classList.add('invalid');
    }
  });
  well.addEventListener('change', () => pick(well.value));
  function renderRecent() {
    recent.replaceChildren(...recentColors().map((c) => h('button.swatch', {
      type: 'button', title: c, 'aria-label': `${label} ${c}`,
      style: c === 'transparent' ? undefined : `--swatch:${c}`,
      class: c === 'transparent' ? 'swatch-none' : undefined,
      dataset: { recent: c },
      onclick: () => pick(c),
    })));
  }
  renderRecent();
  const el = h('div.color-picker', {}, [h('div.color-inputs', {}, [hex, well]), recent]);
  return {
    el,
    /** Show the current colour (of the selection or the next element). */
    update(color) {
      if (document.activeElement !== hex) hex.value = typeof color === 'string' ? color : '';
      if (typeof color === 'string' && /^#[0-9a-fA-F]{6}$/.test(color)) well.value = color.toLowerCase();
      renderRecent();
    },
  };
}
