/**
 * Team spaces over HTTP (backend/space_handlers.py): every `/api/spaces` path the page uses, the
 * space tokens (`/s/<id>#t=<token>`, kept per space and role in localStorage like board tokens)
 * the list of spaces this browser opened, and which space each board was opened from (so the
 * board page can link back to it, for this browser only: a board link alone never reveals its space).
 */
import { authHeaders, rememberToken, tokenRole } from './access.js';

const SAME_SITE = { 'X-Requested-With': 'syncboard' };
const TOKEN_KEY = (spaceId, role) => `syncboard:space-token:${role}:${spaceId}`;
const SPACES_KEY = 'syncboard:spaces';
const BOARD_SPACE_KEY = (boardId) => `syncboard:board-space:${boardId}`;
const MAX_SPACES = 30;
const SPACE_ID = /^[A-Za-z0-9_-]{22}$/;

/** Whether `id` has the form of a space id. */
export function isSpaceId(id) {
  return SPACE_ID.test(id);
}

/** The token for a space: the page fragment's (remembered), else a remembered edit, else view token. */
export function spaceToken(spaceId) {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get('t');
  if (fromLink) {
    rememberSpaceToken(spaceId, fromLink);
    return fromLink;
  }
  return localStorage.getItem(TOKEN_KEY(spaceId, 'edit')) ?? localStorage.getItem(TOKEN_KEY(spaceId, 'view')) ?? '';
}

function rememberSpaceToken(spaceId, token) {
  const role = tokenRole(token);
  if (role) localStorage.setItem(TOKEN_KEY(spaceId, role), token);
}

/** The space token this browser remembers (edit, else view), or '': never the page's fragment. */
function rememberedSpaceToken(spaceId) {
  return localStorage.getItem(TOKEN_KEY(spaceId, 'edit')) ?? localStorage.getItem(TOKEN_KEY(spaceId, 'view')) ?? '';
}

/** Forget the space's remembered tokens (after they were refused: rotated links). */
export function forgetSpaceTokens(spaceId) {
  localStorage.removeItem(TOKEN_KEY(spaceId, 'edit'));
  localStorage.removeItem(TOKEN_KEY(spaceId, 'view'));
}

/** @returns {Array<{id: string, name: string, openedAt: number}>} spaces opened here, most recent first */
export function recentSpaces() {
  try {
    const list = JSON.parse(localStorage.getItem(SPACES_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((s) => typeof s?.id === 'string' && isSpaceId(s.id)) : [];
  } catch {
    return [];
  }
}

/** Remember that a space was opened now, under its current name. */
export function rememberSpace(id, name) {
  const rest = recentSpaces().filter((s) => s.id !== id);
  rest.unshift({ id, name: String(name ?? ''), openedAt: Date.now() });
  try {
    localStorage.setItem(SPACES_KEY, JSON.stringify(rest.slice(0, MAX_SPACES)));
  } catch {
    // Storage full or disabled: the list is a convenience only.
  }
}

/** An error carrying the HTTP status and the server's reason. */
export class SpaceError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

async function call(method, path, token, body) {
  const headers = { Accept: 'application/json', ...SAME_SITE, ...authHeaders(token) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new SpaceError(response.status, answer.detail || answer.error);
  return answer;
}

const spacePath = (spaceId) => `/api/spaces/${encodeURIComponent(spaceId)}`;
const boardPath = (spaceId, boardId) => `${spacePath(spaceId)}/boards/${encodeURIComponent(boardId)}`;

/** Create a space; remembers it and its tokens, resolves to the page path with its edit token. */
export async function createSpace(name) {
  const space = await call('POST', '/api/spaces', '', { name });
  if (space.viewToken) rememberSpaceToken(space.id, space.viewToken);
  if (space.editToken) rememberSpaceToken(space.id, space.editToken);
  rememberSpace(space.id, space.name);
  const path = `/s/${encodeURIComponent(space.id)}`;
  return space.editToken ? `${path}#t=${encodeURIComponent(space.editToken)}` : path;
}

/** The space's name, role (`edit`/`view`) and links as this token may see them. */
export function getSpace(spaceId, token) {
  return call('GET', spacePath(spaceId), token);
}

/** Rename the space (edit token). */
export function renameSpace(spaceId, token, name) {
  return call('PATCH', spacePath(spaceId), token, { name });
}

/** New space links (edit token); the old ones stop working. */
export async function rotateSpace(spaceId, token) {
  const space = await call('POST', `${spacePath(spaceId)}/rotate`, token);
  forgetSpaceTokens(spaceId);
  rememberSpaceToken(spaceId, space.viewToken);
  rememberSpaceToken(spaceId, space.editToken);
  return space;
}

/** The space's boards: `{boards: [...], role}`; `query` searches titles and board text. */
export function listBoards(spaceId, token, { query = '', sort = 'edited', trash = false } = {}) {
  const params = new URLSearchParams({ q: query, sort });
  if (trash) params.set('trash', '1');
  return call('GET', `${spacePath(spaceId)}/boards?${params}`, token);
}

/** A new board in the space. */
export function createBoardInSpace(spaceId, token, title) {
  return call('POST', '/api/boards', token, { space: spaceId, title });
}

export function renameBoard(spaceId, token, boardId, title) {
  return call('PATCH', boardPath(spaceId, boardId), token, { title });
}

export function duplicateBoard(spaceId, token, boardId) {
  return call('POST', `${boardPath(spaceId, boardId)}/duplicate`, token);
}

/** Move a board to the space `target` (its id and edit token, from its edit link). */
export function moveBoard(spaceId, token, boardId, target, targetToken) {
  return call('POST', `${boardPath(spaceId, boardId)}/move`, token, { space: target, token: targetToken });
}

export function deleteBoard(spaceId, token, boardId) {
  return call('DELETE', boardPath(spaceId, boardId), token);
}

export function restoreBoard(spaceId, token, boardId) {
  return call('POST', `${boardPath(spaceId, boardId)}/restore`, token);
}

/** New links of a board; the old ones stop working. */
export function rotateBoard(spaceId, token, boardId) {
  return call('POST', `${boardPath(spaceId, boardId)}/rotate`, token);
}

/** A board's links as the space token may see them; remembers the board's tokens for its page. */
export async function boardLinks(spaceId, token, boardId) {
  const links = await call('GET', `${boardPath(spaceId, boardId)}/links`, token);
  if (links.viewToken) rememberToken(boardId, links.viewToken);
  if (links.editToken) rememberToken(boardId, links.editToken);
  return links;
}

/** An object URL of the board's thumbnail PNG, or null when none is rendered yet. */
export async function thumbnailUrl(spaceId, token, boardId) {
  const response = await fetch(`${boardPath(spaceId, boardId)}/thumbnail.png`, { headers: authHeaders(token) });
  if (!response.ok) return null;
  return URL.createObjectURL(await response.blob());
}

/** Remember that `boardId` is being opened from the space `spaceId` (its page then links back). */
export function rememberBoardSpace(boardId, spaceId) {
  try {
    localStorage.setItem(BOARD_SPACE_KEY(boardId), spaceId);
  } catch {
    // Storage full or disabled: the board page just shows no way back.
  }
}

/**
 * `{id, name}` of the space `boardId` was opened from, asked of the server with the space token
 * this browser remembers (the board's own token is never sent: it is no space token); null when
 * the board was not opened from a space here, the token is refused, or the server is unreachable.
 * A board the server says is no longer in that space (moved, trashed) is forgotten.
 */
export async function boardSpace(boardId) {
  const spaceId = localStorage.getItem(BOARD_SPACE_KEY(boardId));
  if (!spaceId || !isSpaceId(spaceId)) return null;
  try {
    const answer = await call('GET', boardPath(spaceId, boardId), rememberedSpaceToken(spaceId));
    return { id: spaceId, name: String(answer.spaceName ?? '') };
  } catch (error) {
    if (error.status === 404) localStorage.removeItem(BOARD_SPACE_KEY(boardId));
    return null;
  }
}

/** `{id, token}` of a space link (`.../s/<id>#t=<token>`), or null. */
export function parseSpaceLink(link) {
  const match = /\/s\/([A-Za-z0-9_-]{22})(?:[^#]*)(?:#t=([^&]+))?/.exec(link.trim());
  return match ? { id: match[1], token: match[2] ? decodeURIComponent(match[2]) : '' } : null;
}
