/**
 * The dark theme's palette: every colour of the board is drawn through `darkColor`, the same
 * mapping as CSS `invert(93%) hue-rotate(180deg)` computed on the colour value (as Excalidraw
 * does), so light colours become dark ones of the same hue and the default ink turns light.
 * Images are never passed through it, the document keeps the real colours, and exports are
 * always drawn in them. The style panel's swatches get the same CSS filter, so a swatch and the
 * shapes drawn with it look alike.
 */

const cache = new Map();

/**
 * The colour `css` (#rgb or #rrggbb; anything else is returned as it is, e.g. 'transparent')
 * as the dark theme draws it.
 * @param {string} css
 * @returns {string}
 */
export function darkColor(css) {
  let out = cache.get(css);
  if (out !== undefined) return out;
  const rgb = parseHex(css);
  if (!rgb) out = css;
  else {
    const [r, g, b] = rgb.map((c) => 0.93 - 0.86 * c); // invert(93%)
    // hue-rotate(180deg): the CSS filter matrix with cos = -1, sin = 0
    out = toHex([
      -0.574 * r + 1.43 * g + 0.144 * b,
      0.426 * r + 0.43 * g + 0.144 * b,
      0.426 * r + 1.43 * g - 0.856 * b,
    ]);
  }
  if (cache.size < 4096) cache.set(css, out);
  return out;
}

function parseHex(css) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(css ?? '');
  if (!m) return null;
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
}

function toHex(channels) {
  return `#${channels.map((c) => Math.round(Math.min(1, Math.max(0, c)) * 255).toString(16).padStart(2, '0')).join('')}`;
}
