/**
 * SimClient: one simulated whiteboard user, driving an unmodified y-websocket 3.1 WebsocketProvider.
 * It inserts elements (one Y.Map per element in `doc.getMap('elements')`), moves its own elements
 * and its cursor (awareness); an observer client also applies everyone's updates and reports the
 * delivery latency of other clients' inserts (insert timestamp vs. arrival, same process clock).
 */
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'

import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

import { SkippingSocket } from './skipping-socket.mjs'

const CANVAS_PX = 4000

export class SimClient {
  /**
   * @param {object} opts
   * @param {string} opts.url server prefix, e.g. ws://127.0.0.1:8000/ws
   * @param {string} opts.boardId
   * @param {boolean} opts.observer apply others' updates and measure latency
   * @param {() => number} opts.random PRNG in [0, 1)
   * @param {(latencyMs: number) => void} [opts.onDelivery] called per other client's insert seen
   */
  constructor ({ url, boardId, observer, random, onDelivery }) {
    this.boardId = boardId
    this.observer = observer
    this.random = random
    this.doc = new Y.Doc()
    this.elements = this.doc.getMap('elements')
    this.ownKeys = []
    this.editCount = 0
    this.inserts = 0
    this.moves = 0
    this.cursorMoves = 0
    this.provider = new WebsocketProvider(url, boardId, this.doc, {
      WebSocketPolyfill: observer ? WebSocket : SkippingSocket,
      disableBc: true
    })
    this.provider.awareness.setLocalState({
      user: { name: `sim-${this.doc.clientID}` },
      cursor: { x: 0, y: 0 }
    })
    if (observer && onDelivery) {
      this.elements.observe((event) => {
        const now = performance.now()
        for (const [key, change] of event.changes.keys) {
          if (change.action !== 'add') continue
          const element = this.elements.get(key)
          if (element instanceof Y.Map && element.get('createdBy') !== this.doc.clientID) {
            onDelivery(now - element.get('t'))
          }
        }
      })
    }
  }

  /** Resolves once the provider has synced, rejects after `timeoutMs`. */
  whenSynced (timeoutMs) {
    if (this.provider.synced) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.boardId}: not synced in ${timeoutMs} ms`)), timeoutMs)
      const onSync = (synced) => {
        if (!synced) return
        clearTimeout(timer)
        this.provider.off('sync', onSync)
        resolve()
      }
      this.provider.on('sync', onSync)
    })
  }

  /** One user action: every other edit inserts an element, the rest move an own element. */
  edit () {
    this.editCount++
    if (this.editCount % 2 === 1 || this.ownKeys.length === 0) {
      this.insert(this.doc.clientID + '-' + this.editCount)
    } else {
      const key = this.ownKeys[Math.floor(this.random() * this.ownKeys.length)]
      this.move(key)
    }
    this.moveCursor()
  }

  /** Inserts one element under `key` in its own transaction. */
  insert (key) {
    const x = this.random() * CANVAS_PX
    const y = this.random() * CANVAS_PX
    const element = new Y.Map(Object.entries({
      type: 'rect',
      x,
      y,
      w: 40 + this.random() * 200,
      h: 40 + this.random() * 200,
      z: this.inserts,
      stroke: '#1e1e1e',
      createdBy: this.doc.clientID,
      t: performance.now()
    }))
    this.elements.set(key, element)
    this.ownKeys.push(key)
    this.inserts++
  }

  /** Moves an own element by a few pixels in one transaction. */
  move (key) {
    const element = this.elements.get(key)
    this.doc.transact(() => {
      element.set('x', element.get('x') + this.random() * 20 - 10)
      element.set('y', element.get('y') + this.random() * 20 - 10)
    })
    this.moves++
  }

  moveCursor () {
    this.provider.awareness.setLocalStateField('cursor', {
      x: Math.round(this.random() * CANVAS_PX),
      y: Math.round(this.random() * CANVAS_PX)
    })
    this.cursorMoves++
  }

  /** Highest clock of this client's own updates. */
  ownClock () {
    return Y.getState(this.doc.store, this.doc.clientID)
  }

  /** The encoded state vector as a comparable string. */
  stateVectorKey () {
    return Buffer.from(Y.encodeStateVector(this.doc)).toString('base64')
  }

  /** Map of client id -> clock from the state vector. */
  stateVector () {
    return Y.decodeStateVector(Y.encodeStateVector(this.doc))
  }

  /** sha1 of the elements as canonical JSON (keys sorted), to compare documents. */
  contentDigest () {
    return createHash('sha1').update(canonicalJson(this.elements.toJSON())).digest('hex')
  }

  destroy () {
    this.provider.destroy()
    this.doc.destroy()
  }
}

function canonicalJson (value) {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']'
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).sort()
      .map((key) => JSON.stringify(key) + ':' + canonicalJson(value[key])).join(',') + '}'
  }
  return JSON.stringify(value)
}

/** mulberry32: a small seeded PRNG so runs are repeatable. */
export function seededRandom (seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
