/** The home page's part of team spaces: "create a space", and the spaces this browser opened. */
import { createSpace, recentSpaces } from '../sync/spaces.js';
import { h, toast } from './dom.js';
import { timeAgo } from './timeago.js';

/** The "+ New space" button: creates a space and opens its page with the edit link. */
export function createSpaceButton() {
  const button = h('button.secondary.new-space', {
    type: 'button',
    onclick: async () => {
      button.disabled = true;
      try {
        location.assign(await createSpace('Team space'));
      } catch (error) {
        button.disabled = false;
        toast(String(error.message || error), 'error');
      }
    },
  }, ['+ New space']);
  return button;
}

/** The "Your spaces" card. */
export function spacesCard() {
  const spaces = recentSpaces();
  return h('section.home-card.panel', {}, [
    h('h2', {}, ['Your spaces']),
    spaces.length === 0
      ? h('p.muted', {}, ['A space keeps a team’s boards together behind one link.'])
      : h('ul.recent.recent-spaces', {}, spaces.map((s) => h('li', {}, [
        h('a', { href: `/s/${encodeURIComponent(s.id)}`, title: s.id }, [s.name || 'Team space']),
        h('span.muted', { title: new Date(s.openedAt).toLocaleString() }, [`opened ${timeAgo(s.openedAt)}`]),
      ]))),
  ]);
}
