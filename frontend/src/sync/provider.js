/**
 * Connects a board's Y.Doc to the server (y-websocket) and to the browser's IndexedDB copy, and
 * reports connection status and the number of local changes the server has not confirmed.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import protocol from '../../../shared/protocol.json';
import { websocketUrl, CLOSE_CODE_NAMES } from './api.js';
import { PendingChanges } from './pending.js';

/** Wait this long after the last unconfirmed change before probing the server for it. */
const PROBE_DELAY_MS = 1200;
/** Failed attempts in a row after which the board counts as offline rather than reconnecting. */
const OFFLINE_AFTER_ATTEMPTS = 4;

const { SYNC } = protocol.messageTypes;
const { STEP1, STEP2, UPDATE } = protocol.syncTypes;
/** Close codes after which reconnecting cannot help (the board refuses this client). */
const TERMINAL_CODES = new Set([
  protocol.closeCodes.WS_4403_FORBIDDEN.code,
  protocol.closeCodes.WS_4413_BOARD_TOO_LARGE.code,
]);

/**
 * @typedef {'connecting' | 'connected' | 'reconnecting' | 'offline' | 'refused'} ConnectionState
 */

/**
 * Open the board's providers.
 * @param {string} boardId
 * @param {Y.Doc} doc
 * @param {{onStatus: (state: ConnectionState, detail: string) => void,
 *          onPending: (count: number) => void}} callbacks
 */
export function connectBoard(boardId, doc, { onStatus, onPending }) {
  const local = new IndexeddbPersistence(`syncboard:${boardId}`, doc);
  const provider = new WebsocketProvider(websocketUrl(), boardId, doc, {
    connect: false,
    shouldReconnect: (event) => !TERMINAL_CODES.has(event.code),
  });
  const pending = new PendingChanges(doc, `syncboard:pending:${boardId}`, (count) => {
    onPending(count);
    scheduleProbe();
  });
  let everConnected = false;
  let refused = '';
  let probeTimer = 0;

  const state = () => {
    if (refused) return 'refused';
    if (provider.wsconnected && provider.synced) return 'connected';
    if (!navigator.onLine || !provider.shouldConnect
      || provider.wsUnsuccessfulReconnects >= OFFLINE_AFTER_ATTEMPTS) {
      return 'offline';
    }
    return everConnected ? 'reconnecting' : 'connecting';
  };
  const report = () => onStatus(state(), refused);

  doc.on('update', (update, origin) => {
    if (origin === provider || origin === local) return;
    pending.addLocal(update);
  });
  provider.on('status', ({ status }) => {
    if (status === 'connected') {
      everConnected = true;
      provider.ws?.addEventListener('message', (event) => readServerFrame(event.data));
    }
    report();
  });
  provider.on('sync', () => {
    report();
    scheduleProbe();
  });
  provider.on('connection-close', (event) => {
    if (event && TERMINAL_CODES.has(event.code)) {
      refused = event.reason || CLOSE_CODE_NAMES[event.code] || String(event.code);
    }
    report();
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

  function readServerFrame(data) {
    if (!(data instanceof ArrayBuffer)) return;
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== SYNC) return;
    const syncType = decoding.readVarUint(decoder);
    if (syncType === STEP2 || syncType === UPDATE) {
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
    /** Resolves when the IndexedDB copy has been loaded into the doc. */
    whenLocalLoaded: local.whenSynced,
  };
}
