/**
 * The local user's display name and colour, and the recent-boards list, kept in localStorage.
 */

export const PALETTE = ['#e03131', '#d6336c', '#ae3ec9', '#7048e8', '#4263eb', '#1c7ed6',
  '#0c8599', '#099268', '#2f9e44', '#e8590c', '#f08c00', '#5c7cfa'];

const NAME_KEY = 'syncboard:name';
const COLOR_KEY = 'syncboard:color';
const RECENT_KEY = 'syncboard:recent';
const MAX_RECENT = 12;

/** @returns {{name: string, color: string}} the stored identity, created on first use. */
export function loadIdentity() {
  let name = localStorage.getItem(NAME_KEY);
  let color = localStorage.getItem(COLOR_KEY);
  if (!name) {
    name = `Guest ${Math.floor(100 + Math.random() * 900)}`;
    localStorage.setItem(NAME_KEY, name);
  }
  if (!color || !/^#[0-9a-f]{6}$/i.test(color)) {
    color = PALETTE[Math.floor(Math.random() * PALETTE.length)];
    localStorage.setItem(COLOR_KEY, color);
  }
  return { name, color };
}

/** Store a new display name and/or colour. */
export function saveIdentity({ name, color }) {
  if (name !== undefined) localStorage.setItem(NAME_KEY, name.trim().slice(0, 40) || 'Guest');
  if (color !== undefined && /^#[0-9a-f]{6}$/i.test(color)) localStorage.setItem(COLOR_KEY, color);
}

/** @returns {Array<{id: string, title: string, openedAt: number}>} most recent first */
export function recentBoards() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((b) => typeof b?.id === 'string') : [];
  } catch {
    return [];
  }
}

/** Remember that a board was opened now (keeping the title seen last time unless given). */
export function rememberBoard(id, title) {
  const list = recentBoards();
  const known = list.find((b) => b.id === id);
  const rest = list.filter((b) => b.id !== id);
  rest.unshift({ id, title: title ?? known?.title ?? '', openedAt: Date.now() });
  saveRecent(rest);
}

/** Record the title a remembered board has now, without changing when it was opened. */
export function rememberBoardTitle(id, title) {
  const list = recentBoards();
  const entry = list.find((b) => b.id === id);
  if (!entry || entry.title === title) return;
  entry.title = title;
  saveRecent(list);
}

function saveRecent(list) {
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, MAX_RECENT)));
  } catch {
    // Storage full or disabled: the list is a convenience only.
  }
}
