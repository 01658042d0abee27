/**
 * Style panel: stroke colour, fill (palette plus a colour picker), stroke width and style, connector
 * routing, opacity, font size and alignment (of text and labels) for new elements and for the
 * selection; z-order, duplicate and delete buttons when something is selected.
 */
import { h } from './dom.js';
import { ICONS } from './icons.js';
import { ALIGN_ACTIONS } from '../doc/align.js';
import { ALIGN_ICONS } from './arrange.js';
import { createColorPicker } from './colorpicker.js';

export const STROKE_COLORS = ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5'];
export const FILL_COLORS = ['transparent', '#ffc9c9', '#b2f2bb', '#a5d8ff', '#ffec99', '#eebefa'];
export const STICKY_COLORS = ['#fff3a3', '#ffd8a8', '#d3f9d8', '#d0ebff', '#f3d9fa'];
const WIDTHS = [[1, 'Thin'], [2, 'Medium'], [4, 'Bold'], [8, 'Extra bold']];
const FONT_SIZES = [[16, 'S'], [20, 'M'], [28, 'L'], [40, 'XL']];
const ALIGNS = [['left', 'Left'], ['center', 'Centre'], ['right', 'Right']];
const ARROWHEADS = [['end', '→'], ['both', '↔'], ['none', '—']];
const STROKE_STYLES = [['solid', 'Solid'], ['dashed', 'Dashed'], ['dotted', 'Dotted']];
const ROUTINGS = [['straight', 'Straight'], ['elbow', 'Elbow']];

/**
 * @param {{onStyle: (patch: Record<string, any>) => void, onAction: (name: string) => void}} handlers
 */
export function createStylePanel({ onStyle, onAction }) {
  const rows = {};
  const swatches = (key, colors) => h('div.swatches', {}, colors.map((c) => h('button.swatch', {
    type: 'button', title: c, 'aria-label': `${key} ${c}`, dataset: { key, value: c },
    style: c === 'transparent' ? undefined : `--swatch:${c}`,
    class: c === 'transparent' ? 'swatch-none' : undefined,
    onclick: () => onStyle({ [key]: c }),
  })));
  const choices = (key, options) => h('div.choices', {}, options.map(([value, label]) => h('button.choice', {
    type: 'button', title: label, dataset: { key, value: String(value) },
    onclick: () => onStyle({ [key]: value }),
  }, [key === 'strokeWidth' ? h('span.width-sample', { style: `height:${Math.min(value, 6)}px` }) : label])));
  const opacity = h('input.opacity', {
    type: 'range', min: '10', max: '100', step: '5', 'aria-label': 'Opacity',
    oninput: (event) => onStyle({ opacity: Number(event.target.value) / 100 }),
  });
  const pickers = {
    stroke: createColorPicker({ key: 'stroke', label: 'Stroke', onPick: (c) => onStyle({ stroke: c }) }),
    fill: createColorPicker({ key: 'fill', label: 'Fill', onPick: (c) => onStyle({ fill: c }) }),
  };
  rows.stroke = section('Stroke', swatches('stroke', STROKE_COLORS), pickers.stroke.el);
  rows.fill = section('Fill', swatches('fill', FILL_COLORS), pickers.fill.el);
  rows.strokeStyle = section('Stroke style', choices('strokeStyle', STROKE_STYLES));
  rows.routing = section('Routing', choices('routing', ROUTINGS));
  rows.stickyFill = section('Note colour', swatches('stickyFill', STICKY_COLORS));
  rows.strokeWidth = section('Stroke width', choices('strokeWidth', WIDTHS));
  rows.fontSize = section('Font size', choices('fontSize', FONT_SIZES));
  rows.align = section('Align', choices('align', ALIGNS));
  rows.arrowheads = section('Arrowheads', choices('arrowheads', ARROWHEADS));
  rows.opacity = section('Opacity', opacity);
  const action = (name, title) => h('button.tool.small', {
    type: 'button', title, 'aria-label': title, html: ICONS[name], onclick: () => onAction(name),
  });
  rows.actions = section('Arrange', h('div.choices', {}, [
    action('backward', 'Send backward — ['), action('forward', 'Bring forward — ]'),
    action('duplicate', 'Duplicate — Ctrl D'), action('trash', 'Delete — Del'),
  ]));
  rows.alignment = section('Align and distribute', h('div.choices', {}, ALIGN_ACTIONS.map(([name, title]) => h('button.tool.small', {
    type: 'button', title, 'aria-label': title, html: ALIGN_ICONS[name], dataset: { action: name }, onclick: () => onAction(name),
  }))));
  const el = h('aside.stylepanel.panel', { 'aria-label': 'Style' }, Object.values(rows));
  return {
    el,
    /**
     * Show the rows relevant to the active tool / selection and mark current values.
     * @param {{types: Set<string>, style: Record<string, any>, hasSelection: boolean, count?: number}} view
     *   count: how many elements are selected (align and distribute need two)
     */
    update({ types, style, hasSelection, count = 0 }) {
      const any = (...t) => t.some((x) => types.has(x));
      rows.stroke.hidden = !any('stroke', 'rect', 'ellipse', 'diamond', 'line', 'arrow', 'text', 'frame');
      rows.fill.hidden = !any('rect', 'ellipse', 'diamond');
      rows.strokeStyle.hidden = !any('stroke', 'rect', 'ellipse', 'diamond', 'line', 'arrow');
      rows.routing.hidden = !any('line', 'arrow');
      rows.stickyFill.hidden = !any('sticky');
      rows.strokeWidth.hidden = !any('stroke', 'rect', 'ellipse', 'diamond', 'line', 'arrow');
      rows.fontSize.hidden = !any('text', 'sticky', 'rect', 'ellipse', 'diamond', 'line', 'arrow');
      rows.align.hidden = !any('text', 'sticky', 'rect', 'ellipse', 'diamond');
      rows.arrowheads.hidden = !any('arrow');
      rows.opacity.hidden = !any('stroke', 'rect', 'ellipse', 'diamond', 'line', 'arrow', 'text', 'sticky', 'image');
      pickers.stroke.update(style.stroke);
      pickers.fill.update(style.fill);
      rows.actions.hidden = !hasSelection;
      rows.alignment.hidden = !hasSelection || count < 2;
      el.hidden = Object.values(rows).every((row) => row.hidden);
      for (const button of el.querySelectorAll('[data-key]')) {
        const current = style[button.dataset.key];
        button.classList.toggle('active', String(current) === button.dataset.value);
      }
      opacity.value = String(Math.round((style.opacity ?? 1) * 100));
    },
  };
}

function section(title, ...body) {
  return h('section.style-row', {}, [h('h3', {}, [title]), ...body]);
}
