/**
 * A right-click menu laid over the board: a list of entries (label, shortcut hint, action),
 * separators and rows of icon buttons. It closes on a choice, a click elsewhere, Escape,
 * the wheel or a resize. Keyboard: arrow keys move between entries, Enter chooses.
 */
import { h } from './dom.js';

/**
 * @typedef {{label: string, hint?: string, action: () => void, disabled?: boolean}} MenuEntry
 * @typedef {{row: Array<{title: string, html: string, action: () => void, name: string}>}} MenuRow
 * @typedef {MenuEntry | MenuRow | 'separator'} MenuItem
 */

/**
 * @param {HTMLElement} stage the board's stage (the menu is placed in its coordinates)
 * @returns {{el: HTMLElement, open: (x: number, y: number, items: MenuItem[]) => void, close: () => void}}
 */
export function createContextMenu(stage) {
  const el = h('div.context-menu.panel', { role: 'menu', hidden: true, 'aria-label': 'Context menu' });
  stage.append(el);
  const close = () => {
    el.hidden = true;
    el.replaceChildren();
  };
  const choose = (action) => () => {
    close();
    action();
  };
  document.addEventListener('pointerdown', (event) => {
    if (!el.hidden && !el.contains(event.target)) close();
  }, { capture: true });
  window.addEventListener('keydown', (event) => {
    if (el.hidden) return;
    if (event.key === 'Escape') {
      close();
      event.stopPropagation();
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const buttons = [...el.querySelectorAll('button:not([disabled])')];
      const at = buttons.indexOf(document.activeElement);
      const next = buttons[(at + (event.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length];
      next?.focus();
      event.preventDefault();
      event.stopPropagation();
    }
  }, { capture: true });
  window.addEventListener('wheel', close, { passive: true });
  window.addEventListener('resize', close);

  return {
    el,
    close,
    open(x, y, items) {
      el.replaceChildren(...items.map((item) => {
        if (item === 'separator') return h('div.context-separator', { role: 'separator' });
        if ('row' in item) {
          return h('div.context-row', {}, item.row.map((b) => h('button.tool.small', {
            type: 'button', role: 'menuitem', title: b.title, 'aria-label': b.title, html: b.html,
            dataset: { action: b.name }, onclick: choose(b.action),
          })));
        }
        return h('button.menu-item', {
          type: 'button', role: 'menuitem', disabled: item.disabled, onclick: choose(item.action),
        }, [h('span.context-label', {}, [item.label]), item.hint ? h('span.context-hint', {}, [item.hint]) : null]);
      }));
      el.hidden = false;
      const box = stage.getBoundingClientRect();
      const width = el.offsetWidth;
      const height = el.offsetHeight;
      el.style.left = `${Math.max(4, Math.min(x, box.width - width - 4))}px`;
      el.style.top = `${Math.max(4, Math.min(y, box.height - height - 4))}px`;
      el.querySelector('button:not([disabled])')?.focus({ preventScroll: true });
    },
  };
}
