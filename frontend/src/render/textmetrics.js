/**
 * Text widths and line breaks from the bundled font's advance widths (shared/BOARD.md, "Text
 * metrics"): the JavaScript twin of backend/export/text.py, tested against the same cases
 * (shared/fixtures/wrapping.json), so the browser breaks a label's or sticky note's lines
 * exactly where the SVG/PNG/PDF exporters do, whatever font has loaded yet.
 *
 * Widths are sums of integer advances (font units, from shared/font-metrics.json), scaled once:
 * `units * fontSize / unitsPerEm`, the same floating-point operations as in Python. Kerning is
 * not applied on either side. Text is split into paragraphs at `\n` and into words at runs of
 * spaces and tabs only; a word wider than the line is cut between code points.
 */
import metrics from '../../../shared/font-metrics.json' with { type: 'json' };

/** The bundled font's family (frontend/static/app.css's @font-face, the SVG export's). */
export const FONT_FAMILY = '"DejaVu Sans", sans-serif';

const UNITS_PER_EM = metrics.unitsPerEm;
const FALLBACK = metrics.fallback;
const ADVANCES = new Map();
for (const [first, run] of metrics.runs) run.forEach((advance, i) => ADVANCES.set(first + i, advance));
const BREAKS = /([ \t]+)/;

function advanceOf(char) {
  return ADVANCES.get(char.codePointAt(0)) ?? FALLBACK;
}

function isSpaces(token) {
  return token[0] === ' ' || token[0] === '\t';
}

/** The advance of `text` in font units (code points the font lacks: one em each). */
export function textUnits(text) {
  let units = 0;
  for (const char of text) units += advanceOf(char);
  return units;
}

/** The advance of `text` at `fontSize` (board units). */
export function textWidth(text, fontSize) {
  return (textUnits(text) * fontSize) / UNITS_PER_EM;
}

/** Split `text` into lines no wider than `width` (0 = at newlines only). */
export function wrapLines(text, width, fontSize) {
  const fits = (units) => (units * fontSize) / UNITS_PER_EM <= width;
  const lines = [];
  for (const paragraph of text.split('\n')) {
    if (width <= 0) {
      lines.push(paragraph);
      continue;
    }
    let line = '';
    let units = 0;
    for (const token of paragraph.split(BREAKS)) {
      if (!token) continue;
      const tokenUnits = textUnits(token);
      if (isSpaces(token)) { // spaces hang at the end of a line, never break it
        line += token;
        units += tokenUnits;
        continue;
      }
      if (/[^ \t]/.test(line) && !fits(units + tokenUnits)) {
        lines.push(line.replace(/[ \t]+$/, ''));
        line = token;
        units = tokenUnits;
      } else {
        line += token;
        units += tokenUnits;
      }
      let chars = Array.from(line);
      while (chars.length > 1 && !fits(units)) { // a word wider than the line is cut
        let count = 0;
        let taken = 0;
        for (const char of chars) {
          const advance = advanceOf(char);
          if (count && !fits(taken + advance)) break;
          count += 1;
          taken += advance;
        }
        lines.push(chars.slice(0, count).join(''));
        chars = chars.slice(count);
        units -= taken;
      }
      line = chars.join('');
    }
    lines.push(line);
  }
  return lines;
}
