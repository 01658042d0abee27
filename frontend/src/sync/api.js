/**
 * Every HTTP and WebSocket URL the page uses, and the small JSON calls to the backend's API.
 * The only module (with sync/provider.js) that knows paths.
 */
import protocol from '../../../shared/protocol.json';

/** The y-websocket server URL for this page: ws(s)://host/ws (the board id is appended). */
export function websocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${protocol.websocketPath}`;
}

/** Whether a board id is valid (shared/protocol.json boardIdPattern). */
export function isBoardId(id) {
  return new RegExp(protocol.boardIdPattern).test(id);
}

/** The page URL of a board. */
export function boardPageUrl(boardId) {
  return `${location.origin}/b/${encodeURIComponent(boardId)}`;
}

/** Create a board; resolves to its id. */
export async function createBoard() {
  const response = await fetch('/api/boards', { method: 'POST', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`creating a board failed: HTTP ${response.status}`);
  const body = await response.json();
  return body.id;
}

/** The server exporter's URL for a board in `format` (svg, png or json). */
export function exportUrl(boardId, format) {
  return `/api/boards/${encodeURIComponent(boardId)}/export.${format}`;
}

/** Import a board JSON document (the exporter's format) into a board. */
export async function importBoardJson(boardId, text) {
  const response = await fetch(`/api/boards/${encodeURIComponent(boardId)}/import`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: text,
  });
  if (!response.ok) throw new Error(`import failed: HTTP ${response.status} ${await response.text()}`);
}

/** Upload an image file; resolves to its fileId. */
export async function uploadFile(boardId, file) {
  const response = await fetch(`/api/boards/${encodeURIComponent(boardId)}/files`, {
    method: 'POST',
    headers: { 'Content-Type': file.type || 'application/octet-stream' },
    body: file,
  });
  if (!response.ok) throw new Error(`upload failed: HTTP ${response.status}`);
  return (await response.json()).fileId;
}

/** Where the bytes of an uploaded file are served. */
export function fileUrl(fileId) {
  return `/api/files/${encodeURIComponent(fileId)}`;
}

/** Close codes by number -> name, from shared/protocol.json. */
export const CLOSE_CODE_NAMES = Object.fromEntries(
  Object.entries(protocol.closeCodes).map(([name, { code }]) => [code, name]),
);
