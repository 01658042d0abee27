/**
 * Entry point: one page for `/` (home), `/b/<board_id>` (board) and `/s/<space_id>` (space), routed on location.pathname.
 */
import { isBoardId } from './sync/api.js';
import { mountBoardPage } from './ui/boardpage.js';
import { mountHomePage } from './ui/home.js';
import { mountSpacePage } from './ui/spacepage.js';
import { isSpaceId } from './sync/spaces.js';

const root = document.getElementById('app');
const match = /^\/b\/([^/]+)\/?$/.exec(location.pathname);
const boardId = match ? decodeURIComponent(match[1]) : null;
const spaceMatch = /^\/s\/([^/]+)\/?$/.exec(location.pathname);
if (boardId && isBoardId(boardId)) mountBoardPage(root, boardId);
else if (spaceMatch && isSpaceId(spaceMatch[1])) mountSpacePage(root, spaceMatch[1]);
else mountHomePage(root);

// The app shell offline (src/offline/service-worker.js): a reload without network still opens.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((error) => console.warn('syncboard: no offline shell', error));
}
