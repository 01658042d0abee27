/**
 * The people panel: everyone on the board, where they look (jump to their view, or follow
 * them), the toggle for viewport outlines, and "Bring everyone to me": this user's presence
 * carries a summon; every page that sees a new one follows its sender until Esc (or until the
 * presenter stops presenting).
 */
import { h, toast } from '../ui/dom.js';

const VIEWPORTS_KEY = 'syncboard:showViewports';

/**
 * @param {{presence: import('../presence.js').Presence, me: () => {name: string, color: string},
 *          following: () => number | null, follow: (clientId: number | null) => void,
 *          jumpTo: (view: {x: number, y: number, zoom: number}) => void, onToggle: () => void}} deps
 */
export function createPeoplePanel({ presence, me, following, follow, jumpTo, onToggle }) {
  let presenting = null;
  /** Summons already acted on ("clientId:n"), so each one makes this page follow once. */
  const answered = new Set();
  /** The presenter this page follows because of a summon (null: none). */
  let summonedBy = null;
  let showViewports = localStorage.getItem(VIEWPORTS_KEY) === '1';

  const list = h('ul.people-list');
  const present = h('button.people-present', { type: 'button', onclick: () => setPresenting(presenting === null) }, ['Bring everyone to me']);
  const toggle = h('input', {
    type: 'checkbox', 'aria-label': 'Show viewports',
    onchange: () => {
      showViewports = toggle.checked;
      localStorage.setItem(VIEWPORTS_KEY, showViewports ? '1' : '0');
      onToggle();
    },
  });
  toggle.checked = showViewports;
  const panel = h('section.people-panel.panel', { hidden: true, 'aria-label': 'People' }, [
    h('h3', {}, ['People']),
    list,
    h('label.people-toggle', {}, [toggle, 'Show viewports']),
    present,
  ]);

  function setPresenting(on) {
    presenting = on ? { n: Date.now() } : null;
    presence.setField('summon', presenting);
    present.textContent = on ? 'Stop presenting' : 'Bring everyone to me';
    present.classList.toggle('active', on);
  }

  function render(peers) {
    const rows = [h('li.person.me', {}, [dot(me().color), h('span.person-name', {}, [`${me().name} (you)`])])];
    for (const peer of peers) {
      const followed = following() === peer.clientId;
      rows.push(h('li.person', { dataset: { client: String(peer.clientId) } }, [
        dot(peer.color),
        h('span.person-name', { title: peer.name }, [peer.name]),
        h('button.person-jump', { type: 'button', disabled: !peer.view, title: `Go to ${peer.name}'s view`, onclick: () => peer.view && jumpTo(peer.view) }, ['Go to']),
        h('button.person-follow', { type: 'button', class: followed ? 'active' : undefined, onclick: () => follow(followed ? null : peer.clientId) },
          [followed ? 'Following' : 'Follow']),
      ]));
    }
    list.replaceChildren(...rows);
  }

  let lastPeers = [];
  return {
    el: panel,
    toggle() {
      panel.hidden = !panel.hidden;
      render(lastPeers);
    },
    get showViewports() {
      return showViewports;
    },
    /** Act on summons and refresh the list; call on every presence change. */
    update(peers) {
      for (const peer of peers) {
        const summon = peer.signals.summon;
        if (!summon) continue;
        const key = `${peer.clientId}:${summon.n}`;
        if (answered.has(key)) continue;
        answered.add(key);
        if (presenting !== null) setPresenting(false); // someone else presents now
        summonedBy = peer.clientId;
        follow(peer.clientId);
        toast(`${peer.name} brought everyone to their view · Esc to stop following`);
      }
      if (summonedBy !== null) {
        const presenter = peers.find((p) => p.clientId === summonedBy);
        if (!presenter?.signals.summon && following() === summonedBy) follow(null);
        if (!presenter?.signals.summon || following() !== summonedBy) summonedBy = null;
      }
      lastPeers = peers;
      if (!panel.hidden) render(peers); // cursors change presence 25 times a second
    },
  };
}

function dot(color) {
  return h('span.person-dot', { style: `--person:${color}` });
}
