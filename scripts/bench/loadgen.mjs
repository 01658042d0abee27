#!/usr/bin/env node
/**
 * syncboard load generator: many unmodified y-websocket clients in one Node process.
 *
 * Modes (one JSON object on stdout; progress events as JSON lines on stderr):
 *   edit  B boards x C clients, each editing R times/s for D s (insert/move mix + cursor moves);
 *         K observers per board apply everything and time others' inserts; then a quiet period
 *         and a convergence check (observers and a fresh checker client hold identical documents).
 *   join  seed one board with N elements, then time late joiners (connect -> synced with all N);
 *         with --unload-wait-s the board is left empty for that long before each join (the
 *         seeder stays --settle-s after the board is complete, then leaves).
 *   idle  B boards x C clients connect and stay idle for --hold-s (server memory per connection).
 *   persist  B boards x C clients insert R elements/s each for D s (inserts only, no cursor moves,
 *         echoes skipped), then report `edits-done` with the count sent and wait --hold-s before
 *         leaving: the orchestrator kills the server meanwhile and counts what its database holds.
 *
 * Example: node loadgen.mjs --url ws://127.0.0.1:8000/ws --mode edit --boards 1 --clients 50 --rate 2
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'

import { skipped } from './lib/skipping-socket.mjs'
import { seededRandom, SimClient } from './lib/sim-client.mjs'

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    mode: { type: 'string', default: 'edit' },
    'board-prefix': { type: 'string', default: 'bench' },
    boards: { type: 'string', default: '1' },
    clients: { type: 'string', default: '10' },
    observers: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1' },
    'duration-s': { type: 'string', default: '10' },
    'quiet-max-s': { type: 'string', default: '20' },
    elements: { type: 'string', default: '10000' },
    'seed-batch': { type: 'string', default: '10' },
    joins: { type: 'string', default: '5' },
    'unload-wait-s': { type: 'string', default: '0' },
    'settle-s': { type: 'string', default: '0' },
    'hold-s': { type: 'string', default: '5' },
    'connect-batch': { type: 'string', default: '50' },
    'connect-timeout-s': { type: 'string', default: '120' },
    seed: { type: 'string', default: '1' }
  }
})

const num = (name) => {
  const value = Number(opts[name])
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got ${opts[name]}`)
  return value
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const event = (name, extra = {}) => process.stderr.write(JSON.stringify({ event: name, ...extra }) + '\n')
const round2 = (value) => Math.round(value * 100) / 100

if (!opts.url) throw new Error('--url is required (e.g. ws://127.0.0.1:8000/ws)')
process.setMaxListeners(0) // every provider registers a process 'exit' listener
const random = seededRandom(num('seed'))
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
const cpuStart = process.cpuUsage()

/**
 * Connects clients in batches and waits (bounded) until all are synced; returns the clients, the
 * time until the last one synced and how many did not sync in time.
 */
async function connectAll (specs) {
  const started = performance.now()
  const clients = []
  const batch = num('connect-batch')
  for (let i = 0; i < specs.length; i += batch) {
    for (const spec of specs.slice(i, i + batch)) clients.push(new SimClient(spec))
    await sleep(20)
  }
  const timeoutMs = num('connect-timeout-s') * 1000
  const outcomes = await Promise.allSettled(clients.map((client) => client.whenSynced(timeoutMs)))
  const unsynced = outcomes.filter((outcome) => outcome.status === 'rejected').length
  return { clients, connectMs: performance.now() - started, unsynced }
}

function boardIds () {
  return Array.from({ length: num('boards') }, (_, i) => `${opts['board-prefix']}-${i}`)
}

async function runEdit () {
  const perBoard = num('clients')
  const observersPerBoard = Math.min(num('observers'), perBoard)
  const latencies = []
  const specs = []
  for (const boardId of boardIds()) {
    for (let i = 0; i < perBoard; i++) {
      specs.push({
        url: opts.url,
        boardId,
        observer: i < observersPerBoard,
        random: seededRandom(Math.floor(random() * 2 ** 32)),
        onDelivery: (ms) => latencies.push(ms)
      })
    }
  }
  const { clients, connectMs, unsynced } = await connectAll(specs)
  event('connected', { clients: clients.length, unsynced, connect_ms: round2(connectMs) })

  const editMs = await editFor(clients, num('rate'), num('duration-s') * 1000)
  event('edits-done')

  const expected = expectedDeliveries(clients)
  const quiet = await waitQuiet(clients, expected, latencies)
  const check = await checkConvergence(clients)
  const totals = sumClients(clients)
  const fanout = clients.reduce((sum, client) => sum + (client.inserts + client.moves) * (perBoard - 1), 0)
  for (const client of clients) client.destroy()
  return {
    mode: 'edit',
    boards: num('boards'),
    clients_per_board: perBoard,
    observers_per_board: observersPerBoard,
    rate_per_s: num('rate'),
    duration_s: round2(editMs / 1000),
    connect_ms: round2(connectMs),
    unsynced_clients: unsynced,
    ...totals,
    expected_deliveries: expected,
    delivered: latencies.length,
    fanout_updates: fanout,
    latencies_ms: latencies.map(round2),
    quiet_ms: round2(quiet),
    skipped_update_frames: skipped.frames,
    skipped_update_bytes: skipped.bytes,
    converged: check.converged && latencies.length === expected && unsynced === 0,
    convergence: check
  }
}

/**
 * Every client edits `rate` times a second for `durationMs`, each with a random phase so they do
 * not edit in lockstep. Edits are due on an absolute schedule: when the process falls behind (a
 * busy machine), the late edits are made at once, so the offered load stays the same.
 */
async function editFor (clients, rate, durationMs, action = (client) => client.edit()) {
  const periodMs = 1000 / rate
  const phasesMs = clients.map(() => random() * periodMs)
  const done = clients.map(() => 0)
  const started = performance.now()
  const tick = () => {
    const elapsedMs = Math.min(performance.now() - started, durationMs)
    clients.forEach((client, i) => {
      const due = elapsedMs < phasesMs[i] ? 0 : Math.floor((elapsedMs - phasesMs[i]) / periodMs) + 1
      for (; done[i] < due; done[i]++) action(client)
    })
  }
  const timer = setInterval(tick, 5)
  await sleep(durationMs)
  clearInterval(timer)
  tick()
  return performance.now() - started
}

/** Inserts each observer should see: every insert by another client of its board. */
function expectedDeliveries (clients) {
  const boards = new Map()
  for (const client of clients) {
    const board = boards.get(client.boardId) ?? { inserts: 0, observers: [] }
    board.inserts += client.inserts
    if (client.observer) board.observers.push(client)
    boards.set(client.boardId, board)
  }
  let expected = 0
  for (const board of boards.values()) {
    for (const observer of board.observers) expected += board.inserts - observer.inserts
  }
  return expected
}

/** Waits (bounded) until every expected insert has arrived and observers' state vectors agree. */
async function waitQuiet (clients, expected, latencies) {
  const started = performance.now()
  const deadline = started + num('quiet-max-s') * 1000
  while (performance.now() < deadline) {
    if (latencies.length >= expected && observersAgree(clients)) break
    await sleep(100)
  }
  await sleep(300)
  return performance.now() - started
}

function observersAgree (clients) {
  const keys = new Map()
  for (const client of clients) {
    if (!client.observer) continue
    const key = client.stateVectorKey()
    if (keys.has(client.boardId) && keys.get(client.boardId) !== key) return false
    keys.set(client.boardId, key)
  }
  return true
}

/**
 * Per board, a fresh checker client syncs from the server; the board converged when every
 * observer and the checker hold the same state vector and content, and the checker holds every
 * client's own updates (so nothing a non-observer sent was lost).
 */
async function checkConvergence (clients) {
  const byBoard = new Map()
  for (const client of clients) {
    if (!byBoard.has(client.boardId)) byBoard.set(client.boardId, [])
    byBoard.get(client.boardId).push(client)
  }
  const failures = []
  await Promise.all([...byBoard].map(async ([boardId, boardClients]) => {
    const checker = new SimClient({ url: opts.url, boardId, observer: true, random })
    try {
      await checker.whenSynced(num('quiet-max-s') * 1000)
      const checkerVector = checker.stateVector()
      const missing = boardClients.filter((client) => (checkerVector.get(client.doc.clientID) ?? 0) < client.ownClock())
      if (missing.length > 0) failures.push({ boardId, reason: `server lacks updates of ${missing.length} clients` })
      const digest = checker.contentDigest()
      const stateKey = checker.stateVectorKey()
      const differing = boardClients.filter((client) => client.observer &&
        (client.contentDigest() !== digest || client.stateVectorKey() !== stateKey))
      if (differing.length > 0) failures.push({ boardId, reason: `${differing.length} observers differ from the server` })
    } catch (error) {
      failures.push({ boardId, reason: String(error.message) })
    } finally {
      checker.destroy()
    }
  }))
  return { converged: failures.length === 0, boards_checked: byBoard.size, failures: failures.slice(0, 10) }
}

function sumClients (clients) {
  const totals = { clients: clients.length, inserts_sent: 0, moves_sent: 0, cursor_moves_sent: 0 }
  for (const client of clients) {
    totals.inserts_sent += client.inserts
    totals.moves_sent += client.moves
    totals.cursor_moves_sent += client.cursorMoves
  }
  totals.edits_sent = totals.inserts_sent + totals.moves_sent
  return totals
}

async function runJoin () {
  const boardId = `${opts['board-prefix']}-0`
  const elementCount = num('elements')
  const batch = num('seed-batch')
  const unloadWaitMs = num('unload-wait-s') * 1000
  const timeoutMs = num('connect-timeout-s') * 1000
  const seeder = new SimClient({ url: opts.url, boardId, observer: true, random })
  await seeder.whenSynced(timeoutMs)
  const seedStart = performance.now()
  for (let i = 0; i < elementCount; i += batch) {
    seeder.doc.transact(() => {
      for (let j = i; j < Math.min(i + batch, elementCount); j++) seeder.insert(`seed-${j}`)
    })
    if ((i / batch) % 50 === 0) await sleep(1)
  }
  // a first joiner that sees every element proves the server holds the whole board
  const probe = await timeJoin(boardId, elementCount, timeoutMs)
  const seedMs = performance.now() - seedStart
  event('seeded', { seed_ms: round2(seedMs) })
  if (unloadWaitMs > 0) {
    await sleep(num('settle-s') * 1000) // give a store that writes behind time to catch up
    seeder.destroy()
  }
  const joinsMs = []
  const joinElements = []
  for (let i = 0; i < num('joins'); i++) {
    if (unloadWaitMs > 0) await sleep(unloadWaitMs)
    const join = await timeJoin(boardId, elementCount, num('quiet-max-s') * 1000)
    joinsMs.push(join.ms)
    joinElements.push(join.elements)
  }
  if (unloadWaitMs === 0) seeder.destroy()
  return {
    mode: 'join',
    elements: elementCount,
    seed_batch: batch,
    seed_ms: round2(seedMs),
    probe_join_ms: round2(probe.ms),
    unload_wait_s: unloadWaitMs / 1000,
    joins_ms: joinsMs.map(round2),
    joins_elements: joinElements,
    converged: probe.complete && joinElements.every((count) => count === elementCount)
  }
}

/**
 * Time from creating a provider until it is synced and holds `elementCount` elements (or until
 * `timeoutMs`: then `complete` is false and `elements` says how many arrived).
 */
async function timeJoin (boardId, elementCount, timeoutMs) {
  const started = performance.now()
  const joiner = new SimClient({ url: opts.url, boardId, observer: true, random })
  try {
    await joiner.whenSynced(timeoutMs)
    const deadline = started + timeoutMs
    while (joiner.elements.size < elementCount && performance.now() < deadline) await sleep(1)
    const elements = joiner.elements.size
    return { ms: performance.now() - started, elements, complete: elements === elementCount }
  } finally {
    joiner.destroy()
  }
}

/** Connects `clients` non-observer clients on every board and reports the `connected` event. */
async function connectPlainClients () {
  const specs = []
  for (const boardId of boardIds()) {
    for (let i = 0; i < num('clients'); i++) specs.push({ url: opts.url, boardId, observer: false, random })
  }
  const connected = await connectAll(specs)
  event('connected', { clients: connected.clients.length, unsynced: connected.unsynced, connect_ms: round2(connected.connectMs) })
  return connected
}

async function runIdle () {
  const { clients, connectMs, unsynced } = await connectPlainClients()
  await sleep(num('hold-s') * 1000)
  const stillConnected = clients.filter((client) => client.provider.wsconnected).length
  for (const client of clients) client.destroy()
  return {
    mode: 'idle',
    boards: num('boards'),
    clients_per_board: num('clients'),
    connections: clients.length,
    connect_ms: round2(connectMs),
    unsynced_clients: unsynced,
    still_connected: stillConnected,
    converged: unsynced === 0 && stillConnected === clients.length
  }
}

async function runPersist () {
  const { clients, connectMs, unsynced } = await connectPlainClients()
  const editMs = await editFor(clients, num('rate'), num('duration-s') * 1000,
    (client) => client.insert(`${client.doc.clientID}-${client.inserts}`))
  const sent = sumClients(clients)
  event('edits-done', { inserts_sent: sent.inserts_sent })
  await sleep(num('hold-s') * 1000)
  for (const client of clients) client.destroy()
  return {
    mode: 'persist',
    boards: num('boards'),
    clients_per_board: num('clients'),
    rate_per_s: num('rate'),
    duration_s: round2(editMs / 1000),
    connect_ms: round2(connectMs),
    unsynced_clients: unsynced,
    ...sent,
    converged: unsynced === 0
  }
}

const modes = { edit: runEdit, join: runJoin, idle: runIdle, persist: runPersist }
if (!modes[opts.mode]) throw new Error(`--mode must be one of ${Object.keys(modes).join(', ')}`)
const result = await modes[opts.mode]()
const cpu = process.cpuUsage(cpuStart)
loopDelay.disable()
result.loadgen_cpu_s = round2((cpu.user + cpu.system) / 1e6)
result.loadgen_loop_delay_p99_ms = round2(loopDelay.percentile(99) / 1e6)
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0))
