#!/usr/bin/env node
/**
 * The transport floor: a y-websocket relay on `ws` that does no CRDT work and keeps nothing.
 *
 * What it costs to move the bench's bytes, and so the floor under any real server's CPU:
 * each frame a client sends to `/ws/<room>` goes, unchanged, to the room's other connections,
 * with two exceptions that a stock y-websocket 3.1 client needs to work at all:
 *
 * - a sync step 1 (the client asking for what it lacks) is answered with an empty sync step 2
 *   (the provider then counts as synced) and not forwarded;
 * - an awareness update is forwarded only when one of its entries has a clock above the last
 *   one seen for that client id on this room (the stock client re-sends every awareness update
 *   it receives; without this the echoes would circulate for ever).
 *
 * Nothing else is kept: no document (a late joiner receives nothing, so L1/L2 never complete
 * and the bench's convergence check, which asks a fresh client, fails by design), no presence
 * states, nothing on disk. Per room it holds its connections and one clock per client id.
 *
 * Usage: HOST=127.0.0.1 PORT=8000 node floor_server.mjs
 */
import { WebSocketServer } from 'ws'

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const SYNC_STEP1 = 0
// messageSync, syncStep2, an empty Yjs v1 update (no structs, empty delete set) as a byte string
const EMPTY_STEP2 = Uint8Array.of(MESSAGE_SYNC, 1, 2, 0, 0)

/** @type {Map<string, {conns: Set<import('ws').WebSocket>, clocks: Map<number, number>}>} */
const rooms = new Map()

/** lib0 varUint at `pos` of `data`: [value, next position]. */
const readVarUint = (data, pos) => {
  let value = 0
  let multiplier = 1
  for (;;) {
    const byte = data[pos++]
    value += (byte & 0x7f) * multiplier
    if (byte < 0x80) return [value, pos]
    multiplier *= 128
    if (multiplier > 2 ** 53) throw new Error('varUint too long')
  }
}

/** Whether an awareness update (message type already read; `pos` at its length prefix) holds an
 * entry whose clock advanced; records the new clocks. */
const awarenessAdvanced = (data, pos, clocks) => {
  let count, client, clock, stateLength
  ;[, pos] = readVarUint(data, pos) // the update is a length-prefixed byte string
  ;[count, pos] = readVarUint(data, pos)
  let advanced = false
  for (let i = 0; i < count; i++) {
    ;[client, pos] = readVarUint(data, pos)
    ;[clock, pos] = readVarUint(data, pos)
    ;[stateLength, pos] = readVarUint(data, pos)
    pos += stateLength
    const known = clocks.get(client)
    if (known === undefined || clock > known) {
      clocks.set(client, clock)
      advanced = true
    }
  }
  return advanced
}

const forward = (room, from, data) => {
  for (const conn of room.conns) {
    if (conn !== from && conn.readyState === conn.OPEN) conn.send(data)
  }
}

const server = new WebSocketServer({
  host: process.env.HOST || '127.0.0.1',
  port: Number(process.env.PORT || 8000),
  perMessageDeflate: false
})

server.on('connection', (conn, request) => {
  const name = (request.url || '/').slice(1).split('?')[0]
  let room = rooms.get(name)
  if (room === undefined) {
    room = { conns: new Set(), clocks: new Map() }
    rooms.set(name, room)
  }
  room.conns.add(conn)
  conn.binaryType = 'nodebuffer'
  conn.on('message', (data, isBinary) => {
    if (!isBinary || data.length < 2) return
    try {
      const [type, pos] = readVarUint(data, 0)
      if (type === MESSAGE_SYNC) {
        if (data[pos] === SYNC_STEP1) conn.send(EMPTY_STEP2)
        else forward(room, conn, data)
      } else if (type === MESSAGE_AWARENESS) {
        if (awarenessAdvanced(data, pos, room.clocks)) forward(room, conn, data)
      }
    } catch {
      conn.close(1007, 'bad frame')
    }
  })
  conn.on('close', () => {
    room.conns.delete(conn)
    if (room.conns.size === 0) rooms.delete(name)
  })
})

server.on('listening', () => {
  const { address, port } = server.address()
  process.stdout.write(`floor relay listening on ${address}:${port}\n`)
})
