/**
 * The space page `/s/<id>`: every board of a team space as a card (thumbnail, title, last editor
 * and time, people on it now), sorting, search over titles and board text, and, for edit-link
 * holders, create, rename, duplicate, move, delete (confirmed, into a 30-day trash), restore, and
 * each board's share links with "rotate links". View-link holders see the list and open boards
 * read-only. All calls go through sync/spaces.js; the server checks every token.
 */
import {
  boardLinks, createBoardInSpace, deleteBoard, duplicateBoard, forgetSpaceTokens, getSpace, listBoards,
  moveBoard, parseSpaceLink, rememberBoardSpace, rememberSpace, renameBoard, renameSpace, restoreBoard, rotateBoard, rotateSpace, spaceToken,
  thumbnailUrl,
} from '../sync/spaces.js';
import { h, toast } from './dom.js';
import { applyTheme } from './theme.js';
import { timeAgo } from './timeago.js';

const REFRESH_MS = 5000;
const SEARCH_DELAY_MS = 200;

/** @param {HTMLElement} root @param {string} spaceId */
export async function mountSpacePage(root, spaceId) {
  applyTheme();
  const token = spaceToken(spaceId);
  let space;
  try {
    space = await getSpace(spaceId, token);
  } catch (error) {
    if (error.status === 401 || error.status === 403) forgetSpaceTokens(spaceId);
    root.replaceChildren(h('main.space', {}, [
      h('a.space-home', { href: '/' }, ['← syncboard']),
      h('h1', {}, ['This space cannot be opened']),
      h('p.space-refused', { role: 'alert' }, [error.message]),
    ]));
    return;
  }
  rememberSpace(spaceId, space.name);
  const state = { query: '', sort: 'edited', trash: false, boards: [], thumbs: new Map(), token, space };
  const editable = space.role === 'edit';
  const grid = h('div.space-grid', { 'aria-live': 'polite' });
  const searchInput = h('input.space-search', {
    type: 'search', placeholder: 'Search titles and board text', 'aria-label': 'Search boards',
  });
  let searchTimer = 0;
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.query = searchInput.value; refresh(); }, SEARCH_DELAY_MS);
  });
  const sortSelect = h('select.space-sort', { 'aria-label': 'Sort boards' }, [
    h('option', { value: 'edited' }, ['Last edited']),
    h('option', { value: 'title' }, ['Title']),
    h('option', { value: 'created' }, ['Created']),
  ]);
  sortSelect.addEventListener('change', () => { state.sort = sortSelect.value; refresh(); });
  const trashButton = h('button.space-trash-toggle', {
    type: 'button', 'aria-pressed': 'false',
    onclick: () => {
      state.trash = !state.trash;
      trashButton.setAttribute('aria-pressed', String(state.trash));
      trashButton.textContent = state.trash ? 'Back to boards' : 'Trash';
      refresh();
    },
  }, ['Trash']);
  const newButton = editable ? h('button.primary.space-new', {
    type: 'button',
    onclick: async () => {
      newButton.disabled = true;
      try {
        await createBoardInSpace(spaceId, state.token, '');
        await refresh();
      } catch (error) {
        toast(error.message, 'error');
      } finally {
        newButton.disabled = false;
      }
    },
  }, ['+ New board']) : null;
  const title = h('h1.space-name', {}, [editable
    ? h('button.space-name-button', { type: 'button', title: 'Rename the space', onclick: () => startSpaceRename() }, [space.name])
    : space.name]);
  const shareButton = h('button.space-share', { type: 'button', onclick: () => showSpaceLinks() }, ['Share space']);
  const dialog = h('div.space-dialog.panel', { hidden: true, role: 'dialog' });
  root.replaceChildren(h('main.space', {}, [
    h('header.space-header', {}, [
      h('a.space-home', { href: '/' }, ['← syncboard']),
      title,
      h('span.space-role', {}, [editable ? 'You can edit' : 'View only']),
      shareButton,
    ]),
    h('div.space-controls', {}, [searchInput, sortSelect, trashButton, newButton]),
    dialog,
    grid,
  ]));

  async function refresh() {
    let answer;
    try {
      answer = await listBoards(spaceId, state.token, state);
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    state.boards = answer.boards;
    render();
  }

  function render() {
    if (state.boards.length === 0) {
      grid.replaceChildren(h('p.muted.space-empty', {}, [
        state.trash ? 'The trash is empty.' : state.query ? 'No board matches.' : 'No boards yet.',
      ]));
      return;
    }
    grid.replaceChildren(...state.boards.map(card));
  }

  function card(board) {
    const image = h('img.space-thumb', { alt: '', width: '320', height: '200' });
    loadThumbnail(board, image);
    const name = board.title || 'Untitled board';
    const meta = [`edited ${timeAgo(board.updatedAt * 1000)}`, board.lastEditor ? `by ${board.lastEditor}` : ''];
    const actions = state.trash
      ? [editable && action('Restore', () => restore(board))]
      : [
        action('Open', () => open(board)),
        editable && action('Rename', () => startRename(board, titleEl)),
        editable && action('Duplicate', () => run(() => duplicateBoard(spaceId, state.token, board.id), 'Duplicated')),
        editable && action('Move', () => showMove(board)),
        action('Share', () => showBoardLinks(board)),
        editable && action('Delete', () => confirmDelete(board, el)),
      ];
    const titleEl = h('button.space-card-title', { type: 'button', title: name, onclick: () => !state.trash && open(board) }, [name]);
    const el = h('article.space-card.panel', { dataset: { boardId: board.id } }, [
      h('div.space-thumb-box', { onclick: () => !state.trash && open(board) }, [image]),
      titleEl,
      h('div.space-card-meta.muted', {}, [meta.filter(Boolean).join(' ')]),
      board.live > 0 ? h('span.space-live', { title: 'people on this board now' }, [`${board.live} here now`]) : null,
      h('div.space-card-actions', {}, actions),
    ]);
    return el;
  }

  async function loadThumbnail(board, image) {
    if (!board.thumbnailAt) return;
    const cached = state.thumbs.get(board.id);
    if (cached && cached.at === board.thumbnailAt) {
      image.src = cached.url;
      return;
    }
    const url = await thumbnailUrl(spaceId, state.token, board.id);
    if (!url) return;
    if (cached) URL.revokeObjectURL(cached.url);
    state.thumbs.set(board.id, { at: board.thumbnailAt, url });
    image.src = url;
  }

  async function open(board) {
    try {
      const links = await boardLinks(spaceId, state.token, board.id);
      rememberBoardSpace(board.id, spaceId);
      location.assign(links.editUrl || links.viewUrl);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async function run(change, done) {
    try {
      await change();
      if (done) toast(done);
      closeDialog();
      await refresh();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  function startRename(board, titleEl) {
    const input = h('input.space-rename', { type: 'text', value: board.title, maxlength: '200', 'aria-label': 'New title' });
    const finish = (save) => {
      if (save && input.value.trim() !== board.title) run(() => renameBoard(spaceId, state.token, board.id, input.value.trim()));
      else render();
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') finish(true);
      if (event.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true), { once: true });
    titleEl.replaceWith(input);
    input.focus();
    input.select();
  }

  function confirmDelete(board, el) {
    const bar = h('div.space-confirm', { role: 'alertdialog' }, [
      h('span', {}, [`Delete “${board.title || 'Untitled board'}”? It stays in the trash for 30 days.`]),
      action('Delete board', () => run(() => deleteBoard(spaceId, state.token, board.id), 'Moved to the trash')),
      action('Cancel', () => bar.remove()),
    ]);
    el.append(bar);
  }

  function restore(board) {
    run(() => restoreBoard(spaceId, state.token, board.id), 'Restored');
  }

  function showMove(board) {
    const input = h('input', { type: 'text', placeholder: 'Edit link of the other space', 'aria-label': 'Edit link of the other space' });
    openDialog(`Move “${board.title || 'Untitled board'}” to another space`, [
      h('form.space-move', {
        onsubmit: (event) => {
          event.preventDefault();
          const target = parseSpaceLink(input.value);
          if (!target || !target.token) {
            toast('Paste the edit link of the other space', 'error');
            return;
          }
          run(() => moveBoard(spaceId, state.token, board.id, target.id, target.token), 'Moved');
        },
      }, [input, h('button.primary', { type: 'submit' }, ['Move'])]),
    ]);
  }

  async function showBoardLinks(board) {
    let links;
    try {
      links = await boardLinks(spaceId, state.token, board.id);
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    openDialog(`Links of “${board.title || 'Untitled board'}”`, [
      linkRow('Edit link', links.editUrl !== links.viewUrl ? links.editUrl : null),
      linkRow('View link', links.viewUrl),
      editable && action('Rotate links', async () => {
        try {
          await rotateBoard(spaceId, state.token, board.id);
          toast('New links: the old ones no longer work');
          showBoardLinks(board);
        } catch (error) {
          toast(error.message, 'error');
        }
      }),
    ]);
  }

  function showSpaceLinks() {
    const s = state.space;
    openDialog(`Links of the space “${s.name}”`, [
      linkRow('Edit link', s.editUrl && s.editUrl !== s.viewUrl ? s.editUrl : null),
      linkRow('View link', s.viewUrl),
      editable && action('Rotate space links', async () => {
        try {
          state.space = { ...s, ...(await rotateSpace(spaceId, state.token)) };
          state.token = state.space.editToken;
          history.replaceState(null, '', `/s/${encodeURIComponent(spaceId)}#t=${encodeURIComponent(state.token)}`);
          toast('New links: the old ones no longer work');
          showSpaceLinks();
        } catch (error) {
          toast(error.message, 'error');
        }
      }),
    ]);
  }

  function startSpaceRename() {
    const input = h('input.space-rename', { type: 'text', value: state.space.name, maxlength: '200', 'aria-label': 'Space name' });
    const button = title.firstChild;
    const finish = async (save) => {
      const name = input.value.trim();
      if (save && name && name !== state.space.name) {
        try {
          await renameSpace(spaceId, state.token, name);
          state.space = { ...state.space, name };
          button.textContent = name;
          rememberSpace(spaceId, name);
        } catch (error) {
          toast(error.message, 'error');
        }
      }
      input.replaceWith(button);
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') input.blur();
      if (event.key === 'Escape') { input.value = state.space.name; input.blur(); }
    });
    input.addEventListener('blur', () => finish(true), { once: true });
    button.replaceWith(input);
    input.focus();
    input.select();
  }

  function openDialog(heading, children) {
    dialog.replaceChildren(h('h2', {}, [heading]), ...children.filter(Boolean), action('Close', closeDialog));
    dialog.hidden = false;
  }

  function closeDialog() {
    dialog.hidden = true;
    dialog.replaceChildren();
  }

  await refresh();
  // Live counts and others' changes; never while a rename or a delete confirmation is open.
  setInterval(() => {
    if (document.visibilityState === 'visible' && !grid.querySelector('.space-rename, .space-confirm')) refresh();
  }, REFRESH_MS);
}

function action(label, onclick) {
  return h('button.space-action', { type: 'button', onclick }, [label]);
}

function linkRow(label, url) {
  if (!url) return null;
  const input = h('input.space-link', { type: 'text', readonly: true, value: url, 'aria-label': label });
  return h('label.space-link-row', {}, [label, input, action('Copy', async () => {
    try {
      await navigator.clipboard.writeText(url);
      toast('Link copied');
    } catch {
      input.select();
    }
  })]);
}
