/** The tool bar: one button per tool (icon, tooltip with shortcut), plus undo and redo. */
import { h } from './dom.js';
import { ICONS } from './icons.js';
import { TOOL_KEYS } from '../input/keys.js';

const LABELS = {
  select: 'Select', hand: 'Hand (pan)', pen: 'Pen', rect: 'Rectangle', ellipse: 'Ellipse', diamond: 'Diamond',
  frame: 'Frame',
  line: 'Line', arrow: 'Arrow', text: 'Text', sticky: 'Sticky note', eraser: 'Eraser', image: 'Image',
};

/**
 * @param {{onTool: (name: string) => void, onUndo: () => void, onRedo: () => void,
 *          tools: string[] | null}} handlers `tools` limits the buttons (view-only links)
 */
export function createToolbar({ onTool, onUndo, onRedo, tools: allowed }) {
  const buttons = new Map();
  const shown = TOOL_KEYS.filter(([name]) => !allowed || allowed.includes(name));
  const tools = shown.map(([name, letter, digit]) => {
    const hint = [letter, digit].filter(Boolean).join(' or ');
    const button = h('button.tool', {
      type: 'button', title: `${LABELS[name]} — ${hint}`, 'aria-label': LABELS[name],
      dataset: { tool: name }, html: ICONS[name], onclick: () => onTool(name),
    });
    if (digit) button.append(h('span.tool-key', {}, [digit]));
    buttons.set(name, button);
    return button;
  });
  const undo = h('button.tool', { type: 'button', title: 'Undo — Ctrl Z', 'aria-label': 'Undo', html: ICONS.undo, onclick: onUndo });
  const redo = h('button.tool', { type: 'button', title: 'Redo — Ctrl Shift Z', 'aria-label': 'Redo', html: ICONS.redo, onclick: onRedo });
  const history = allowed ? [] : [h('span.toolbar-sep'), undo, redo];
  const el = h('nav.toolbar.panel', { 'aria-label': 'Tools' }, [...tools, ...history]);
  return {
    el,
    /** Keep only the given tools and drop undo/redo (the page became read-only). */
    limit(names) {
      for (const [tool, button] of buttons) button.hidden = !names.includes(tool);
      for (const button of [undo, redo]) button.hidden = true;
      el.querySelector('.toolbar-sep')?.remove();
    },
    /** Highlight the active tool. */
    setActive(name) {
      for (const [tool, button] of buttons) button.classList.toggle('active', tool === name);
    },
    /** Enable or disable undo and redo. */
    setHistory(canUndo, canRedo) {
      undo.disabled = !canUndo;
      redo.disabled = !canRedo;
    },
  };
}
