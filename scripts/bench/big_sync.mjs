// Big-board sync against one server, with unmodified y-websocket 3.1 clients (BENCHMARKS.md,
// "Big boards"). Prints one JSON object.
//   node scripts/bench/big_sync.mjs --url ws://127.0.0.1:8000/ws --mib 24 --joiners 3
// 1. An observer joins an empty board.
// 2. A writer fills `mib` MiB offline (512 KiB strings, 4 per transaction), then connects: the
//    whole session travels in its sync step 2. Timed until the observer holds all of it.
// 3. `joiners` fresh clients join one after another, each timed from `new WebsocketProvider`
//    until it is synced and holds the writer's state vector.
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'

import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string', default: `big-${Date.now()}` },
    mib: { type: 'string', default: '24' },
    joiners: { type: 'string', default: '3' },
    'timeout-s': { type: 'string', default: '120' }
  }
})
const timeoutMs = Number(values['timeout-s']) * 1000
const VALUE_BYTES = 512 * 1024

const svKey = (doc) => JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(doc))].sort())

const open = (doc, connect = true) => new WebsocketProvider(values.url, values.room, doc, {
  WebSocketPolyfill: WebSocket, disableBc: true, connect
})

const until = (predicate, what) => new Promise((resolve, reject) => {
  const started = performance.now()
  const timer = setInterval(() => {
    if (predicate()) {
      clearInterval(timer)
      resolve()
    } else if (performance.now() - started > timeoutMs) {
      clearInterval(timer)
      reject(new Error(`timed out waiting for ${what}`))
    }
  }, 5)
})

const observerDoc = new Y.Doc()
const observer = open(observerDoc)
await until(() => observer.synced, 'the observer to sync')

const writerDoc = new Y.Doc()
const elements = writerDoc.getMap('elements')
const count = Math.ceil(Number(values.mib) * 1024 * 1024 / VALUE_BYTES)
for (let start = 0; start < count; start += 4) {
  writerDoc.transact(() => {
    for (let i = start; i < Math.min(count, start + 4); i++) {
      elements.set(`blob-${i}`, `${i}:` + 'x'.repeat(VALUE_BYTES - 8))
    }
  })
}
const boardBytes = Y.encodeStateAsUpdate(writerDoc).length
const target = svKey(writerDoc)
const writer = open(writerDoc, false)
const closes = []
writer.on('connection-close', (event) => closes.push(event ? event.code : null))
let started = performance.now()
writer.connect()
await until(() => svKey(observerDoc) === target, 'the observer to hold the offline session')
const uploadMs = performance.now() - started

const joinMs = []
for (let j = 0; j < Number(values.joiners); j++) {
  const doc = new Y.Doc()
  started = performance.now()
  const joiner = open(doc)
  joiner.on('connection-close', (event) => closes.push(event ? event.code : null))
  await until(() => joiner.synced && svKey(doc) === target, `joiner ${j} to sync`)
  joinMs.push(performance.now() - started)
  joiner.destroy()
}
writer.destroy()
observer.destroy()
console.log(JSON.stringify({ boardBytes, uploadMs, joinMs, closes }))
process.exit(0)
