/**
 * The service worker: the app shell offline, so `/b/<id>` reloads without a network and opens the
 * board from IndexedDB with its unsynced edits. build.mjs writes it to dist/sw.js with BUILD set
 * to a hash of the build; the server serves it at /sw.js (scope /).
 *
 * - Pages (`/`, `/b/...`) and `/static/...`: network first, so a page online always gets the
 *   deployed build; the cached copy answers only when the network or the server is unreachable.
 * - `/api/files/<sha256>`: cache first (content-addressed, never stale), so images show offline.
 * - Everything else (API, WebSocket) is not touched.
 * A new build installs a new worker (its bytes differ), which takes over at once and deletes the
 * previous build's cache.
 */
/* global BUILD */
const SHELL_CACHE = `syncboard-shell-${BUILD}`;
const FILES_CACHE = 'syncboard-files';
/** Cache key of the page's HTML, the same for `/` and every `/b/<id>`. */
const PAGE_KEY = '/__syncboard-page';
const ASSETS = ['/static/app.js', '/static/app.css', '/static/favicon.svg', '/static/fonts/DejaVuSans.ttf'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: 'no-store' })));
    const page = await fetch('/', { cache: 'no-store' });
    if (page.ok) await cache.put(PAGE_KEY, page);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('syncboard-shell-') && key !== SHELL_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && (url.pathname === '/' || url.pathname.startsWith('/b/'))) {
    event.respondWith(networkFirst(request, PAGE_KEY));
  } else if (url.pathname.startsWith('/static/')) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (url.pathname.startsWith('/api/files/')) {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirst(request, key) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(FILES_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
