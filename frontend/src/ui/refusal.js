/**
 * The notice shown when the server refused this tab's changes for good (close code 4413: they
 * would take the board past its size cap). The provider stops reconnecting then, so the
 * changes stay in this tab (and its IndexedDB copy) only: the notice says so and offers them
 * as files, the exact Yjs update the server lacks and the whole board as JSON.
 */
import { h } from './dom.js';

/**
 * @param {{boardId: string, unsentUpdate: () => Uint8Array, boardJson: () => object}} opts
 * @returns {{el: HTMLElement, show: (reason: string) => void,
 *            showClosed: (heading: string, explanation: string, unsynced: boolean) => void}}
 */
export function createRefusalNotice({ boardId, unsentUpdate, boardJson }) {
  const title = h('strong', {}, ['Your latest changes were not saved']);
  const reason = h('p.refusal-reason');
  const advice = h('p', {}, ['They are still in this tab, but the server will not take them. Download them '
    + 'to keep them, then delete something or ask the board owner before reloading.']);
  const updateButton = h('button.primary', {
    type: 'button',
    onclick: () => save(new Blob([unsentUpdate()], { type: 'application/octet-stream' }),
      `board-${boardId}-unsent.yjs`),
  }, ['Download unsent changes']);
  const jsonButton = h('button', {
    type: 'button',
    onclick: () => save(new Blob([JSON.stringify(boardJson(), null, 1)], { type: 'application/json' }),
      `board-${boardId}.json`),
  }, ['Download board as JSON']);
  const el = h('div.refusal.panel', { role: 'alert', hidden: true }, [
    title, reason, advice, h('div.refusal-actions', {}, [updateButton, jsonButton]),
  ]);
  return {
    el,
    /** The server refused this tab's changes (4413); `text` is its reason. */
    show(text) {
      reason.textContent = `The server said: ${text}`;
      el.hidden = false;
    },
    /**
     * This link can no longer reach the board (the page has become read-only): say why in plain
     * words, and offer what this tab holds as JSON, `unsynced` saying whether it has changes
     * the server never confirmed.
     */
    showClosed(heading, explanation, unsynced) {
      title.textContent = heading;
      reason.textContent = explanation;
      advice.textContent = unsynced
        ? 'What you drew here and the server never got is kept in this tab: download it to keep it.'
        : 'You can still look around and export what you see.';
      updateButton.hidden = true;
      jsonButton.textContent = unsynced ? 'Download my unsynced changes as JSON' : 'Download the board as JSON';
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
