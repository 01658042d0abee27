/** The help overlay (`?`): every tool's key and every other shortcut. */
import { h } from './dom.js';
import { TOOL_KEYS, ACTION_HELP } from '../input/keys.js';

/** @returns {{el: HTMLElement, toggle: (show?: boolean) => void}} */
export function createHelp() {
  const toolRows = TOOL_KEYS.map(([name, letter, digit]) => row([letter, digit].filter(Boolean).join(' / '), name[0].toUpperCase() + name.slice(1)));
  const el = h('div.help-backdrop', { hidden: true, onclick: (e) => { if (e.target === el) toggle(false); } }, [
    h('div.help.panel', { role: 'dialog', 'aria-label': 'Keyboard shortcuts' }, [
      h('h2', {}, ['Keyboard shortcuts']),
      h('div.help-columns', {}, [
        h('div', {}, [h('h3', {}, ['Tools']), h('table', {}, toolRows)]),
        h('div', {}, [h('h3', {}, ['Actions']), h('table', {}, ACTION_HELP.map(([keys, what]) => row(keys, what)))]),
      ]),
      h('p.help-foot', {}, ['Press ? or Escape to close. Undo only undoes your own changes.']),
    ]),
  ]);
  function toggle(show = el.hidden) {
    el.hidden = !show;
  }
  window.addEventListener('keydown', (event) => {
    if (!el.hidden && event.key === 'Escape') toggle(false);
  });
  return { el, toggle };
}

function row(keys, what) {
  return h('tr', {}, [h('td', {}, keys.split(' / ').map((k) => h('kbd', {}, [k]))), h('td', {}, [what])]);
}
