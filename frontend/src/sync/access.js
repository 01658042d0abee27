/**
 * Board access tokens (SECURITY.md): a link carries its token in the URL fragment
 * (`/b/<id>#t=<token>`), which browsers never send to servers. The page keeps the token per board
 * in localStorage (so recent boards reopen), passes it to the WebSocket as `?token=` and to HTTP
 * calls as `Authorization: Bearer`. Token format: `<board>.<e|v><generation>.<mac>`.
 */

const TOKEN_KEY = (boardId, role) => `syncboard:token:${role}:${boardId}`;

/**
 * The token to use for `boardId`: the one in the page's fragment (remembered), else a remembered
 * edit token, else a remembered view token; '' when none (a server with `--auth none`).
 */
export function boardToken(boardId) {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get('t');
  if (fromLink) {
    rememberToken(boardId, fromLink);
    return fromLink;
  }
  return localStorage.getItem(TOKEN_KEY(boardId, 'edit')) ?? localStorage.getItem(TOKEN_KEY(boardId, 'view')) ?? '';
}

/** Remember a token of a board under its role. */
export function rememberToken(boardId, token) {
  const role = tokenRole(token);
  if (role) localStorage.setItem(TOKEN_KEY(boardId, role), token);
}

/** A remembered token of a role ('edit' or 'view'), or ''. */
export function rememberedToken(boardId, role) {
  return localStorage.getItem(TOKEN_KEY(boardId, role)) ?? '';
}

/**
 * The role a token grants: 'edit', 'view', or null for no token (then the server decides:
 * with `--auth none` everyone edits).
 */
export function tokenRole(token) {
  const role = token ? token.split('.')[1]?.[0] : null;
  if (role === 'e') return 'edit';
  if (role === 'v') return 'view';
  return null;
}

/** HTTP headers carrying the token. */
export function authHeaders(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}
