/**
 * Every HTTP and WebSocket URL the page uses, and the small JSON calls to the backend's API.
 * The only module (with sync/provider.js) that knows paths.
 */
import protocol from '../../../shared/protocol.json' with { type: 'json' };
import { authHeaders, rememberToken } from './access.js';

/**
 * Sent with every state-changing request: a custom header makes a browser ask first (CORS
 * preflight), so another site's page cannot send these (the server refuses POSTs without it
 * or a JSON content type).
 */
const SAME_SITE = { 'X-Requested-With': 'syncboard' };

/**
 * The y-websocket server URL for this page: ws(s)://host/ws (the board id is appended), or the
 * server's --ws-path, which it states in the page's <meta name="syncboard-ws-path">.
 */
export function websocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const path = document.querySelector('meta[name="syncboard-ws-path"]')?.content ?? protocol.websocketPath;
  return `${scheme}://${location.host}${path === '/' ? '' : path}`;
}

/** Whether a board id is valid (shared/protocol.json boardIdPattern). */
export function isBoardId(id) {
  return new RegExp(protocol.boardIdPattern).test(id);
}

/** The page URL of a board, with its token in the fragment when there is one. */
export function boardPageUrl(boardId, token = '') {
  const base = `${location.origin}/b/${encodeURIComponent(boardId)}`;
  return token ? `${base}#t=${encodeURIComponent(token)}` : base;
}

/** Create a board; remembers its tokens and resolves to the path to open (with edit token). */
export async function createBoard() {
  const response = await fetch('/api/boards', {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...SAME_SITE },
  });
  if (!response.ok) throw new Error(`creating a board failed: HTTP ${response.status}`);
  const body = await response.json();
  if (body.viewToken) rememberToken(body.id, body.viewToken);
  if (body.editToken) rememberToken(body.id, body.editToken);
  const path = `/b/${encodeURIComponent(body.id)}`;
  return body.editToken ? `${path}#t=${encodeURIComponent(body.editToken)}` : path;
}

/** File name extension of each export format (shared/BOARD.md, "Getting boards out"). */
const EXPORT_EXTENSIONS = { bundle: 'syncboard.json', excalidraw: 'excalidraw' };

/**
 * The server exporter's rendering of a board as a Blob: svg, png, pdf, json, bundle or
 * excalidraw; `query` holds scale, background, region (x,y,w,h) and pages. With `ids`, only
 * those elements (a selection of any size): posted as `{"ids": [...]}`, since a URL holds
 * at most 2,000 of them.
 */
export async function fetchExport(boardId, format, token, query = {}, ids = null) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const suffix = params.size ? `?${params}` : '';
  const init = ids ? {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...SAME_SITE, ...authHeaders(token) },
    body: JSON.stringify({ ids: [...ids] }),
  } : { headers: authHeaders(token) };
  const response = await fetch(`/api/boards/${encodeURIComponent(boardId)}/export.${format}${suffix}`, init);
  await ensureOk(response, 'export');
  return response.blob();
}

/**
 * Download the server exporter's rendering of a board (see fetchExport; `ids`: of those
 * elements alone) as a file. Fetched with the token header, then saved from a blob URL.
 */
export async function downloadExport(boardId, format, token, query = {}, ids = null) {
  const extension = EXPORT_EXTENSIONS[format] ?? format;
  const part = ids ? '-selection' : query.frame ? `-frame-${query.frame}` : '';
  saveBlob(await fetchExport(boardId, format, token, query, ids), `board-${boardId}${part}.${extension}`);
}

/** Save a Blob as a download named `name`. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A schema violation as a person reads it: `$.elements[3].fill` + detail becomes "Element 4 of
 * the file, its “fill”: ...".
 */
export function importErrorInWords(path, detail) {
  const message = detail.startsWith(`${path}: `) ? detail.slice(path.length + 2) : detail;
  const element = /^\$\.elements\[(\d+)\](?:\.(\w+))?/.exec(path);
  if (element) {
    return `Element ${Number(element[1]) + 1} of the file${element[2] ? `, its “${element[2]}”` : ''}: ${message}`;
  }
  if (path === '$') return `This file is not a syncboard board: ${message}`;
  return `The file's “${path.replace(/^\$\.?/, '')}”: ${message}`;
}

/**
 * Have the server read an import file of any kind (syncboard JSON or bundle, .excalidraw,
 * .tldr: told apart by content) and store its images, without touching the board; resolves to
 * `{board, kind, report, elements}`, the board in the export form for this page to write as one
 * undo step. Throws an Error saying in words what is wrong with the file.
 */
export async function convertImport(boardId, file, token) {
  const response = await fetch(`/api/boards/${encodeURIComponent(boardId)}/import?convert=1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...SAME_SITE, ...authHeaders(token) },
    body: file,
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  if (response.ok) return body;
  if (response.status === 400 && body.path) throw new Error(importErrorInWords(body.path, body.detail ?? ''));
  if (response.status === 413) throw new Error(`This file is too big: ${body.detail ?? 'over the server\'s size limit'}.`);
  throw new Error(`The server could not read this file (HTTP ${response.status}${body.detail ? `: ${body.detail}` : ''}).`);
}

/** Upload an image file; resolves to its fileId. */
export async function uploadFile(boardId, file, token) {
  const response = await fetch(`/api/boards/${encodeURIComponent(boardId)}/files`, {
    method: 'POST',
    headers: { 'Content-Type': file.type || 'application/octet-stream', ...SAME_SITE, ...authHeaders(token) },
    body: file,
  });
  await ensureOk(response, 'upload');
  return (await response.json()).fileId;
}

/**
 * Ask the server whether this token opens the board (`access`: 'ok', 'refused' (401/403),
 * 'missing' (404) or 'unreachable'), and whether it would admit this browser's WebSocket now
 * (`join`: null, or `{status, detail}` when it refuses one, e.g. too many connections from
 * this address). A refused upgrade's status is hidden from page scripts; this is how we learn it.
 * @returns {Promise<{access: string, join: {status: number, detail: string} | null}>}
 */
export async function checkAccess(boardId, token) {
  try {
    const response = await fetch(`/api/boards/${encodeURIComponent(boardId)}`, { headers: authHeaders(token) });
    if (response.ok) {
      const body = await response.json().catch(() => ({}));
      return { access: 'ok', join: body.join || null };
    }
    if (response.status === 401 || response.status === 403) return { access: 'refused', join: null };
    if (response.status === 404) return { access: 'missing', join: null };
    if (response.status === 429 || response.status === 503) {
      const body = await response.json().catch(() => ({}));
      return { access: 'unreachable', join: { status: response.status, detail: body.detail || 'the server is busy' } };
    }
    return { access: 'unreachable', join: null };
  } catch {
    return { access: 'unreachable', join: null };
  }
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

/** Where the bytes of an uploaded file are served. */
export function fileUrl(fileId) {
  return `/api/files/${encodeURIComponent(fileId)}`;
}

/** Close codes by number -> name, from shared/protocol.json. */
export const CLOSE_CODE_NAMES = Object.fromEntries(
  Object.entries(protocol.closeCodes).map(([name, { code }]) => [code, name]),
);
