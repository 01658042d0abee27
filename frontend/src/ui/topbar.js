/**
 * The top bar: home link, the space the board was opened from (a link back), board name, connection status with the unsynced-changes count,
 * participants (click one to follow their view), share, export/import, theme and help.
 */
import { h } from './dom.js';
import { ICONS } from './icons.js';

const STATUS_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  unreachable: 'Server unreachable',
  offline: 'Offline: no network',
  refused: 'Access refused',
  busy: 'Server refused the connection',
};

/**
 * @param {{boardId: string, readOnly: boolean, onExport: (format: string) => void,
 *          onShare: (role: 'edit' | 'view') => void, canShareView: boolean,
 *          onImport: (file: File) => void, onTheme: () => void, onHelp: () => void,
 *          onFollow: (clientId: number | null) => void, onRename: (title: string) => void,
 *          onRenameMe: () => void, onRetry: () => void}} opts
 */
export function createTopbar(opts) {
  const statusDot = h('span.status-dot');
  const statusText = h('span.status-text', {}, ['Connecting…']);
  const pendingText = h('span.pending', { hidden: true });
  const retryButton = h('button.retry-now', { type: 'button', hidden: true, onclick: () => opts.onRetry() }, ['Retry now']);
  const status = h('div.status', { role: 'status', 'aria-live': 'polite', dataset: { state: 'connecting' } },
    [statusDot, statusText, pendingText, retryButton]);
  const title = opts.readOnly
    ? h('span.board-title', {}, [opts.boardId])
    : h('button.board-title', { type: 'button', title: 'Rename board', onclick: () => startRename() }, [opts.boardId]);
  let titleText = '';
  // Rename in place: the title becomes a text field; Enter or leaving it saves, Escape cancels.
  const titleInput = h('input.board-title-input', {
    type: 'text', maxlength: '120', 'aria-label': 'Board name', hidden: true,
    onkeydown: (event) => {
      if (event.key === 'Enter') finishRename(true);
      else if (event.key === 'Escape') finishRename(false);
    },
    onblur: () => finishRename(true),
  });
  const startRename = () => {
    titleInput.value = titleText;
    title.hidden = true;
    titleInput.hidden = false;
    titleInput.focus();
    titleInput.select();
  };
  const finishRename = (save) => {
    if (titleInput.hidden) return;
    titleInput.hidden = true;
    title.hidden = false;
    if (save && titleInput.value.trim() !== titleText) opts.onRename(titleInput.value);
  };
  const spaceLink = h('a.board-space', { hidden: true });
  const people = h('div.participants', { 'aria-label': 'Participants' });
  const importInput = h('input', {
    type: 'file', accept: opts.importAccept ?? 'application/json,.json', hidden: true,
    onchange: (event) => {
      const file = event.target.files?.[0];
      if (file) opts.onImport(file);
      event.target.value = '';
    },
  });
  const item = (icon, label, onclick) => h('button.menu-item', { type: 'button', role: 'menuitem', html: ICONS[icon], onclick }, [label]);
  const menu = h('div.menu.panel', { hidden: true, role: 'menu' }, [
    ...['svg', 'png', 'json'].map((format) => item('download', `Export ${format.toUpperCase()}`, () => opts.onExport(format))),
    opts.onExportPanel ? item('download', 'Export selection, frame, PDF…', opts.onExportPanel) : null,
    opts.readOnly ? null : item('upload', 'Import file (JSON, bundle, Excalidraw, tldraw)…', () => importInput.click()),
    opts.canShareView ? item('eye', 'Copy view-only link', () => opts.onShare('view')) : null,
    opts.readOnly || !opts.onGrid ? null : item('fit', "Show / hide grid (Ctrl ')", () => opts.onGrid()),
  ]);
  const menuButton = h('button.tool', {
    type: 'button', title: 'Export / import', 'aria-label': 'Export or import', html: ICONS.download,
    onclick: (event) => {
      event.stopPropagation();
      menu.hidden = !menu.hidden;
    },
  });
  document.addEventListener('click', () => { menu.hidden = true; });
  const themeButton = h('button.tool', { type: 'button', title: 'Toggle dark theme', 'aria-label': 'Toggle theme', html: ICONS.moon, onclick: opts.onTheme });
  const el = h('header.topbar', {}, [
    h('div.topbar-left.panel', {}, [
      h('a.tool', { href: '/', title: 'All boards', 'aria-label': 'Home', html: ICONS.home }),
      spaceLink,
      title,
      titleInput,
      opts.readOnly ? h('span.badge', { title: 'This link lets you watch, not change, the board' }, ['View only']) : null,
      status,
    ]),
    h('div.topbar-right.panel', {}, [
      people,
      h('button.share', {
        type: 'button', title: opts.readOnly ? 'Copy the view-only link' : 'Copy the board link (can edit)',
        onclick: () => opts.onShare(opts.readOnly ? 'view' : 'edit'), html: ICONS.share,
      }, ['Share']),
      h('div.menu-wrap', {}, [menuButton, menu, importInput]),
      themeButton,
      h('button.tool', { type: 'button', title: 'Keyboard shortcuts — ?', 'aria-label': 'Help', html: ICONS.help, onclick: opts.onHelp }),
    ]),
  ]);
  return {
    el,
    setTitle(text) {
      titleText = text;
      title.textContent = text || opts.boardId;
    },
    /** Show connection state and the count of changes the server has not confirmed. */
    setStatus(state, pending, detail = '') {
      status.dataset.state = state;
      statusText.textContent = detail ? `${STATUS_TEXT[state]}, ${detail}` : STATUS_TEXT[state];
      if (state === 'refused') statusText.textContent = `${STATUS_TEXT[state]}: ${detail}`;
      retryButton.hidden = state !== 'unreachable';
      pendingText.hidden = pending === 0;
      pendingText.textContent = `${pending} unsynced`;
      pendingText.title = `${pending} change${pending === 1 ? '' : 's'} not yet confirmed by the server`;
    },
    /** Show a link back to the space `{id, name}` (its page finds the space token this browser keeps). */
    setSpace(space) {
      spaceLink.href = `/s/${encodeURIComponent(space.id)}`;
      spaceLink.title = `Back to the space “${space.name}”`;
      spaceLink.textContent = `← ${space.name || 'Team space'}`;
      spaceLink.hidden = false;
    },
    setTheme(dark) {
      themeButton.innerHTML = dark ? ICONS.sun : ICONS.moon;
    },
    /**
     * @param {import('../presence.js').Participant[]} others
     * @param {{name: string, color: string}} me
     * @param {number | null} following
     */
    setParticipants(others, me, following) {
      people.replaceChildren(
        avatar(me.name, me.color, `${me.name} (you) — click to rename`, opts.onRenameMe, false),
        ...others.slice(0, 8).map((p) => avatar(p.name, p.color,
          following === p.clientId ? `Following ${p.name} — click to stop` : `${p.name} — click to follow`,
          () => opts.onFollow(following === p.clientId ? null : p.clientId), following === p.clientId, p.clientId)),
      );
      if (others.length > 8) {
        people.append(h('span.avatar.more', { title: others.slice(8).map((p) => p.name).join(', ') }, [`+${others.length - 8}`]));
      }
    },
  };
}

function avatar(name, color, title, onclick, active, clientId) {
  const initials = name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]).join('').toUpperCase() || '?';
  return h(onclick ? 'button.avatar' : 'span.avatar', {
    type: onclick ? 'button' : undefined, title, style: `--avatar:${color}`, onclick,
    class: active ? 'following' : undefined, dataset: clientId ? { client: String(clientId), name } : { name },
  }, [initials]);
}
