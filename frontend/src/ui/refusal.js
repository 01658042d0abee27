/**
 * The notice shown when the server refused this tab's changes for good (close code 4413: they
 * would take the board past its size cap). The provider stops reconnecting then, so the
 * changes stay in this tab (and its IndexedDB copy) only: the notice says so and offers them
 * as files, the exact Yjs update the server lacks and the whole board as JSON.
 */
import { h } from './dom.js';

/**
 * @param {{boardId: string, unsentUpdate: () => Uint8Array, boardJson: () => object}} opts
 * @returns {{el: HTMLElement, show: (reason: string) => void}}
 */
export function createRefusalNotice({ boardId, unsentUpdate, boardJson }) {
  const reason = h('p.refusal-reason');
  const el = h('div.refusal.panel', { role: 'alert', hidden: true }, [
    h('strong', {}, ['Your latest changes were not saved']),
    reason,
    h('p', {}, ['They are still in this tab, but the server will not take them. Download them '
      + 'to keep them, then delete something or ask the board owner before reloading.']),
    h('div.refusal-actions', {}, [
      h('button.primary', {
        type: 'button',
        onclick: () => save(new Blob([unsentUpdate()], { type: 'application/octet-stream' }),
          `board-${boardId}-unsent.yjs`),
      }, ['Download unsent changes']),
      h('button', {
        type: 'button',
        onclick: () => save(new Blob([JSON.stringify(boardJson(), null, 1)], { type: 'application/json' }),
          `board-${boardId}.json`),
      }, ['Download board as JSON']),
    ]),
  ]);
  return {
    el,
    show(text) {
      reason.textContent = `The server said: ${text}`;
      el.hidden = false;
    },
  };
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
