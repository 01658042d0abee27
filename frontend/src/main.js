/**
 * Entry point: one page for `/` (home) and `/b/<board_id>` (board), routed on location.pathname.
 */
import { isBoardId } from './sync/api.js';
import { mountBoardPage } from './ui/boardpage.js';
import { mountHomePage } from './ui/home.js';

const root = document.getElementById('app');
const match = /^\/b\/([^/]+)\/?$/.exec(location.pathname);
const boardId = match ? decodeURIComponent(match[1]) : null;
if (boardId && isBoardId(boardId)) mountBoardPage(root, boardId);
else mountHomePage(root);

// The app shell offline (src/offline/service-worker.js): a reload without network still opens.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((error) => console.warn('syncboard: no offline shell', error));
}
