// Writes one board with every element type through an unmodified y-websocket provider, the way
// the browser app does (shared/BOARD.md): a Y.Map per element, Y.Array points, Y.Text text.
// Used by tests/test_export_http.py.
//
//   node board_writer.mjs WS_URL ROOM ELEMENTS_JSON
// ELEMENTS_JSON: {"meta": {...}, "elements": [{"id": ..., "type": ..., ...}, ...]} (plain values;
// `points` become a Y.Array, `text` a Y.Text). Prints {"written": n} once the provider has synced
// and written them, then stays connected until stdin closes (so the update reaches the server).
import readline from 'node:readline'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const [url, room, spec] = process.argv.slice(2)
const board = JSON.parse(spec)
const doc = new Y.Doc()
const provider = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
const giveUp = setTimeout(() => {
  process.stderr.write('not synced after 10 s\n')
  process.exit(2)
}, 10000)

provider.on('sync', (synced) => {
  if (!synced) return
  clearTimeout(giveUp)
  doc.transact(() => {
    const meta = doc.getMap('meta')
    for (const [key, value] of Object.entries(board.meta ?? {})) meta.set(key, value)
    const elements = doc.getMap('elements')
    for (const { id, ...fields } of board.elements) {
      const element = new Y.Map()
      for (const [key, value] of Object.entries(fields)) {
        if (key === 'points') {
          const points = new Y.Array()
          points.push(value)
          element.set(key, points)
        } else if (key === 'text') {
          element.set(key, new Y.Text(value))
        } else {
          element.set(key, value)
        }
      }
      elements.set(id, element)
    }
  })
  process.stdout.write(JSON.stringify({ written: board.elements.length }) + '\n')
})

readline.createInterface({ input: process.stdin }).on('close', () => {
  provider.destroy()
  process.exit(0)
})
