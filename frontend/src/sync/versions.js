/**
 * The version history API of a board (backend/version_handlers.py): list, save, fetch a
 * version's state, copy a version to a new board. Every call needs the board's edit token.
 */
import { authHeaders } from './access.js';
import { createBoard } from './api.js';

/** Sent with every POST (see sync/api.js: a foreign page cannot send it without a preflight). */
const SAME_SITE = { 'X-Requested-With': 'syncboard' };

function versionsUrl(boardId) {
  return `/api/boards/${encodeURIComponent(boardId)}/versions`;
}

/**
 * One page of versions, newest first.
 * @returns {Promise<{versions: Array<{id: number, created_at: number, kind: string, label: string,
 *   elements: number, authors: string[]}>, next: number | null}>}
 */
export async function listVersions(boardId, token, before = null) {
  const query = before === null ? '' : `?before=${before}`;
  const response = await fetch(versionsUrl(boardId) + query, { headers: authHeaders(token) });
  await ensureOk(response, 'listing versions');
  return response.json();
}

/** Record a version now: `kind` is 'named' (with a label) or 'before-restore'. */
export async function saveVersion(boardId, token, label, kind = 'named') {
  const response = await fetch(versionsUrl(boardId), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...SAME_SITE, ...authHeaders(token) },
    body: JSON.stringify({ label, kind }),
  });
  await ensureOk(response, 'saving a version');
  return response.json();
}

/** The whole board at a version, as one Yjs update. */
export async function versionUpdate(boardId, token, versionId) {
  const response = await fetch(`${versionsUrl(boardId)}/${versionId}/update`, { headers: authHeaders(token) });
  await ensureOk(response, 'loading the version');
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Copy a version into a new board (its JSON export, imported with the new board's edit token);
 * resolves to the new board's page path (with its token).
 */
export async function copyVersionToNewBoard(boardId, token, versionId) {
  const exported = await fetch(`${versionsUrl(boardId)}/${versionId}/export.json`, { headers: authHeaders(token) });
  await ensureOk(exported, 'exporting the version');
  const body = await exported.text();
  const path = await createBoard();
  const [, newId, newToken] = /^\/b\/([^#]+)(?:#t=(.*))?$/.exec(path);
  const imported = await fetch(`/api/boards/${newId}/import`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...SAME_SITE, ...authHeaders(newToken ? decodeURIComponent(newToken) : '') },
    body,
  });
  await ensureOk(imported, 'copying into the new board');
  return path;
}

async function ensureOk(response, what) {
  if (response.ok) return;
  let reason = '';
  try {
    const body = await response.json();
    reason = body.detail || body.error || '';
  } catch {
    // not JSON: the status says enough
  }
  throw new Error(`${what} failed: HTTP ${response.status}${reason ? ` (${reason})` : ''}`);
}
