/** The home page: create a board, reopen a recent one, set display name and colour. */
import { createBoard, isBoardId } from '../sync/api.js';
import { loadIdentity, saveIdentity, recentBoards, PALETTE } from './identity.js';
import { applyTheme } from './theme.js';
import { h, toast } from './dom.js';
import { createSpaceButton, spacesCard } from './spacehome.js';
import { parseSpaceLink } from '../sync/spaces.js';
import { timeAgo } from './timeago.js';

/** @param {HTMLElement} root */
export function mountHomePage(root) {
  applyTheme();
  const identity = loadIdentity();
  const nameInput = h('input.name-input', {
    type: 'text', value: identity.name, maxlength: '40', 'aria-label': 'Display name',
    onchange: (event) => saveIdentity({ name: event.target.value }),
  });
  const colors = h('div.swatches', { role: 'radiogroup', 'aria-label': 'Your colour' }, PALETTE.map((c) => h('button.swatch', {
    type: 'button', style: `--swatch:${c}`, title: c, 'aria-label': `colour ${c}`, role: 'radio',
    class: c === identity.color ? 'active' : undefined,
    onclick: (event) => {
      saveIdentity({ color: c });
      for (const b of colors.children) b.classList.toggle('active', b === event.currentTarget);
    },
  })));
  const createButton = h('button.primary', {
    type: 'button',
    onclick: async () => {
      createButton.disabled = true;
      try {
        saveIdentity({ name: nameInput.value });
        location.assign(await createBoard());
      } catch (error) {
        createButton.disabled = false;
        toast(String(error.message || error), 'error');
      }
    },
  }, ['+ New board']);
  const openInput = h('input', { type: 'text', placeholder: 'Board link or id', 'aria-label': 'Board link or id' });
  const openForm = h('form.open-form', {
    onsubmit: (event) => {
      event.preventDefault();
      const value = openInput.value.trim();
      const id = value.split('/b/').pop().split(/[?#]/)[0];
      const fragment = value.includes('#') ? value.slice(value.indexOf('#')) : '';
      const space = parseSpaceLink(value);
      if (space) location.assign(`/s/${space.id}${fragment}`);
      else if (isBoardId(id)) location.assign(`/b/${encodeURIComponent(id)}${fragment}`);
      else toast('That is not a board or space link', 'error');
    },
  }, [openInput, h('button', { type: 'submit' }, ['Open'])]);
  const recent = recentBoards();
  root.replaceChildren(h('main.home', {}, [
    h('section.home-hero', {}, [
      h('div.logo', {}, [h('span.logo-mark'), 'syncboard']),
      h('h1', {}, ['Draw together. Never lose work.']),
      h('p.lede', {}, ['A shared whiteboard that keeps every stroke through reconnects, restarts and offline edits.']),
      createButton,
      createSpaceButton(),
      openForm,
    ]),
    h('section.home-card.panel', {}, [
      h('h2', {}, ['You']),
      h('label', {}, ['Display name', nameInput]),
      h('div.label', {}, ['Cursor colour']),
      colors,
    ]),
    h('section.home-card.panel', {}, [
      h('h2', {}, ['Recent boards']),
      recent.length === 0
        ? h('p.muted', {}, ['Boards you open appear here.'])
        : h('ul.recent', {}, recent.map((b) => h('li', {}, [
          h('a', { href: `/b/${encodeURIComponent(b.id)}`, title: b.id }, [b.title || 'Untitled board']),
          h('span.muted', { title: new Date(b.openedAt).toLocaleString() }, [`opened ${timeAgo(b.openedAt)}`]),
        ]))),
    ]),
    spacesCard(),
  ]));
}
