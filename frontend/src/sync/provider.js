/**
 * Connects a board's Y.Doc to the server (y-websocket) and to the browser's IndexedDB copy, and
 * reports connection status and the number of local changes the server has not confirmed.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import protocol from '../../../shared/protocol.json' with { type: 'json' };
import { websocketUrl, checkAccess, CLOSE_CODE_NAMES } from './api.js';
import { changedElementIds, PendingChanges } from './pending.js';

/** Wait this long after the last unconfirmed change before probing the server for it. */
const PROBE_DELAY_MS = 1200;
/** Failed attempts in a row after which the server counts as unreachable, not just reconnecting. */
const UNREACHABLE_AFTER_ATTEMPTS = 4;
/** Backoff while the server refuses us for its connection limits (the stock one is 2.5 s). */
const BUSY_BACKOFF_MS = 30_000;

const { SYNC } = protocol.messageTypes;
const { STEP1, STEP2, UPDATE } = protocol.syncTypes;
/** Close codes after which reconnecting cannot help (the board refuses this client). */
const TERMINAL_CODES = new Set([
  protocol.closeCodes.WS_4403_FORBIDDEN.code,
  protocol.closeCodes.WS_4413_BOARD_TOO_LARGE.code,
  protocol.closeCodes.WS_4422_UNSUPPORTED_CONTENT.code,
]);
/** The close code of an edit the server can never accept (too big for the board's cap). */
const EDIT_REFUSED_CODE = protocol.closeCodes.WS_4413_BOARD_TOO_LARGE.code;

/** y-indexeddb's object store of updates. */
const IDB_UPDATES_STORE = 'updates';

/**
 * 'offline': the browser has no network; 'unreachable': the network is up but the server has not
 * answered several attempts in a row (the detail says when the next one is); 'busy': the
 * server refuses this browser for its connection limits (the detail says why).
 * @typedef {'connecting' | 'connected' | 'reconnecting' | 'unreachable' | 'offline' | 'refused' | 'busy'} ConnectionState
 */

/**
 * Open the board's providers.
 * @param {string} boardId
 * @param {Y.Doc} doc
 * @param {string} token access token ('' without one)
 * @param {{onStatus: (state: ConnectionState, detail: string) => void,
 *          onPending: (count: number) => void,
 *          onEditRefused?: (reason: string) => void,
 *          onBoardClosed?: (why: 'missing' | 'revoked' | 'needs-token') => void}} callbacks
 *   onEditRefused: the server refused this tab's changes for good (4413: they would take the
 *   board past its size cap); the returned `unsentUpdate()` holds them for a download.
 *   onBoardClosed: this link can no longer reach the board, for good: 'missing' (no such
 *   board), 'revoked' (the token was rotated or is not this board's), 'needs-token'.
 */
export function connectBoard(boardId, doc, token, {
  onStatus, onPending, onEditRefused = () => {}, onBoardClosed = () => {},
}) {
  const local = new IndexeddbPersistence(`syncboard:${boardId}`, doc);
  const provider = new WebsocketProvider(websocketUrl(), boardId, doc, {
    connect: false,
    params: token ? { token } : {},
    shouldReconnect: (event) => !TERMINAL_CODES.has(event.code),
  });
  const pending = new PendingChanges(doc, `syncboard:pending:${boardId}`, (count) => {
    onPending(count);
    scheduleProbe();
  });
  let everConnected = false;
  let refused = '';
  let busy = '';
  let probeTimer = 0;
  /** The state vector of the server's copy, from its last sync step 1 (null before one). */
  let serverStateVector = null;

  /** When the provider's next attempt is due (its backoff after the last close), in ms since epoch. */
  let retryAt = 0;
  let countdownTimer = 0;
  const stockBackoffMs = provider.maxBackoffTime;

  const state = () => {
    if (refused) return 'refused';
    if (provider.wsconnected && provider.synced) return 'connected';
    if (busy) return 'busy';
    if (!navigator.onLine || !provider.shouldConnect) return 'offline';
    if (provider.wsUnsuccessfulReconnects >= UNREACHABLE_AFTER_ATTEMPTS) return 'unreachable';
    return everConnected ? 'reconnecting' : 'connecting';
  };
  const report = () => {
    const current = state();
    clearTimeout(countdownTimer);
    if (current === 'unreachable') {
      const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      onStatus(current, seconds > 0 ? `retrying in ${seconds} s` : 'retrying now');
      if (seconds > 0) countdownTimer = setTimeout(report, 1000);
    } else {
      onStatus(current, refused || (current === 'busy' ? busy : ''));
    }
  };

  doc.on('update', (update, origin, _doc, transaction) => {
    if (origin === provider || origin === local) return;
    pending.addLocal(update, changedElementIds(transaction, doc.getMap('elements'), doc.getMap('meta')));
  });
  provider.on('status', ({ status }) => {
    if (status === 'connected') {
      everConnected = true;
      busy = '';
      provider.maxBackoffTime = stockBackoffMs;
      provider.ws?.addEventListener('message', (event) => readServerFrame(event.data));
    }
    report();
  });
  provider.on('sync', () => {
    report();
    scheduleProbe();
  });
  provider.on('connection-close', (event) => {
    // failed attempts in a row, this one included (the provider counts it after this event)
    const attempts = provider.wsUnsuccessfulReconnects + 1;
    if (event && TERMINAL_CODES.has(event.code)) {
      refused = event.reason || CLOSE_CODE_NAMES[event.code] || String(event.code);
      if (event.code === EDIT_REFUSED_CODE) onEditRefused(refused);
      else onBoardClosed(token ? 'revoked' : 'needs-token');
    } else if (attempts >= 2 && ((attempts & (attempts - 1)) === 0 || attempts % 16 === 0)) {
      diagnose(); // at 2, 4, 8, 16, then every 16th failure
    }
    // The provider counts this attempt and schedules the next one, min(2^attempts * 100 ms,
    // maxBackoffTime) away, right after this event: read its counter once it has.
    queueMicrotask(() => {
      retryAt = Date.now() + Math.min(2 ** provider.wsUnsuccessfulReconnects * 100, provider.maxBackoffTime);
      report();
    });
  });
  // The browser knows first when the network is gone: stop trusting the socket then, and come
  // back at once (instead of after the backoff) when it returns.
  window.addEventListener('offline', () => {
    provider.disconnect();
    report();
  });
  window.addEventListener('online', () => {
    provider.connect();
    report();
  });

  /**
   * A refused upgrade looks like any failed socket; ask the HTTP API why. A bad link stops the
   * retries; the server's connection limits (429/503) are shown and retried, slowly.
   */
  async function diagnose() {
    const { access, join } = await checkAccess(boardId, token);
    if (access === 'refused' || (access === 'missing' && token)) {
      const why = access === 'missing' ? 'missing' : token ? 'revoked' : 'needs-token';
      refused = { missing: 'no such board', revoked: 'this link is no longer valid',
        'needs-token': 'this board needs a link with a token' }[why];
      provider.disconnect();
      report();
      onBoardClosed(why);
    } else if (join && !provider.wsconnected) {
      busy = `${join.detail}; retrying every ${BUSY_BACKOFF_MS / 1000} s`;
      provider.maxBackoffTime = BUSY_BACKOFF_MS;
      report();
    }
  }

  function readServerFrame(data) {
    if (!(data instanceof ArrayBuffer)) return;
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== SYNC) return;
    const syncType = decoding.readVarUint(decoder);
    if (syncType === STEP1) {
      serverStateVector = decoding.readVarUint8Array(decoder);
    } else if (syncType === STEP2 || syncType === UPDATE) {
      pending.addRemote(decoding.readVarUint8Array(decoder));
    }
  }

  function scheduleProbe() {
    clearTimeout(probeTimer);
    if (pending.count === 0) return;
    probeTimer = setTimeout(sendProbe, PROBE_DELAY_MS);
  }

  function sendProbe() {
    const ws = provider.ws;
    if (pending.count === 0 || !provider.wsconnected || !ws || ws.readyState !== WebSocket.OPEN) {
      return;
    }
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, SYNC);
    encoding.writeVarUint(encoder, STEP1);
    encoding.writeVarUint8Array(encoder, Y.encodeStateVector(pending.probeStateVector()));
    ws.send(encoding.toUint8Array(encoder));
    probeTimer = setTimeout(sendProbe, PROBE_DELAY_MS * 4);
  }

  if (navigator.onLine) provider.connect();
  onPending(pending.count);
  report();
  return {
    provider,
    awareness: provider.awareness,
    local,
    pending,
    /** Current connection state. */
    state,
    /** Try the server again now instead of waiting for the next attempt. */
    retryNow: () => {
      if (refused || !navigator.onLine) return;
      provider.disconnect();
      provider.connect();
      report();
    },
    /**
     * What this tab holds that the server's copy (as of its last sync step 1) does not, as one
     * Yjs update (everything when the server never answered): the changes a refusal kept out.
     */
    unsentUpdate: () => Y.encodeStateAsUpdate(doc, serverStateVector ?? undefined),
    /** Resolves when the IndexedDB copy has been loaded into the doc. */
    whenLocalLoaded: local.whenSynced,
    /** Resolves once every change so far is committed to the IndexedDB copy. */
    flushLocal: () => flushLocal(local),
  };
}

/**
 * Wait until IndexedDB has committed every update written so far: a read-only transaction on the
 * updates store starts only after the read-write transactions created before it completed.
 */
async function flushLocal(local) {
  await local.whenSynced;
  const db = local.db;
  if (!db) return;
  await new Promise((resolve, reject) => {
    const transaction = db.transaction([IDB_UPDATES_STORE], 'readonly');
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.objectStore(IDB_UPDATES_STORE).count();
  });
}
