// Drives unmodified y-websocket providers under Node for the pytest interop tests.
//
//   node yjs_client.mjs [PACKAGE]   PACKAGE: y-websocket (3.1, the default), y-websocket-2 (2.1)
//                                   or y-websocket-1 (1.5): npm aliases in package.json
// Protocol: one JSON object per line on stdin, one per line on stdout.
//   request  {"id": 1, "cmd": "connect", "doc": "a", "url": "ws://127.0.0.1:P/ws", "room": "b1"}
//   reply    {"reply": 1, "ok": true, ...}        or {"reply": 1, "error": "message"}
//   event    {"event": "status", "doc": "a", "status": "connected"}
// Commands (each takes "doc", a local name, default "main"; several docs per process):
//   connect {url, room, state?, params?, bc?}  new Y.Doc + WebsocketProvider (BroadcastChannel
//                                 off, so two docs in one process only meet through the
//                                 server; `bc: true` turns it on, the provider's default: the
//                                 process's docs of one room are then tabs of one browser;
//                                 `params` become the URL query, e.g. {"token": ...})
//   set {map, key, value}         one transaction: map.set(key, value)
//   delete {map, key}             one transaction: map.delete(key)
//   push {array, values}          one transaction: array.push(values)
//   put_element {element, fields} elements[element] = a Y.Map as the app writes it
//                                 (shared/BOARD.md): `points` a Y.Array, `text` a Y.Text
//   put_elements {elements}       the same for {id: fields, ...} in one transaction
//   fill {map, prefix, count, size, perTransaction}  count string values of `size` bytes under
//                                 keys prefix+i, perTransaction per transaction (big boards
//                                 and big offline sessions without shipping them over stdin)
//   summary {map}                 {keys, updateBytes, stateVector} without the content
//   edit_element {element, key, value}  set one field of an existing element map
//   type_text {element, index, text}    insert into the element's Y.Text (UTF-16 index)
//   dump {maps, arrays, texts, subdocMaps, fragments, hookMaps}  the named maps/arrays/texts,
//                                 connection state, others' awareness, the state vector
//                                 {clientId: clock} (equal vectors = same doc), for each of
//                                 `subdocMaps` its subdocuments {key: {guid, meta, autoLoad}},
//                                 and for each of `fragments` (XML fragments) its children:
//                                 {hook, entries} for a Y.XmlHook, {element}, {text}, {other};
//                                 for each of `hookMaps`, the Y.XmlHooks among its values and
//                                 its Y.Map values' values (`hooksOf`)
//   add_subdocs {map, docs}       per [{key, guid, meta}], one transaction each:
//                                 map.set(key, new Y.Doc({guid, meta}))
//   add_xml_hook {fragment, name, values, count?}  one transaction: `count` (default 1)
//                                 Y.XmlHooks holding `values` appended to the named XML fragment
//   hook_set {fragment, index, key, value}  one transaction: set an entry of the Y.XmlHook at
//                                 `index` of the fragment
//   clear_fragment {fragment}    one transaction: delete every child of the XML fragment
//   put_hook {map?, key, name, values, field?}  one transaction: map[key] = a Y.XmlHook named
//                                 `name` holding `values`; with `field`, map[key] = a Y.Map
//                                 {kind: "note"} whose `field` is that hook
//   read_update {hex, hookMaps}   a fresh Y.Doc with the update applied: {hooks, maps}
//                                 as `dump` gives them (a version's /update, say)
//   send_frame {hex}              send raw bytes on the provider's socket (an app's own
//                                 message type, say); fails when not connected
//   awareness {state}             awareness.setLocalState(state) (null clears it)
//   peers                         awareness states of the other clients, {clientId: state}
//   disconnect / connect_again    provider.disconnect() / provider.connect()
//   quit                          destroy every provider and exit
// Events: status, synced (true/false), connection-close (with the close code; null when the
// client closed the socket itself, e.g. its 30 s "no message received" watchdog),
// connection-error, and closed (a 44xx close code: the provider gave up reconnecting).
import readline from 'node:readline'
import WebSocket from 'ws'
import * as Y from 'yjs'

const providerPackage = process.argv[2] ?? 'y-websocket'
const { WebsocketProvider } = await import(providerPackage)

/** @type {Map<string, {doc: Y.Doc, provider: WebsocketProvider, status: string, closes: Array<any>}>} */
const docs = new Map()

const send = (message) => process.stdout.write(JSON.stringify(message) + '\n')

const entryOf = (name) => {
  const entry = docs.get(name)
  if (entry === undefined) throw new Error(`no doc named ${name}`)
  return entry
}

const othersStates = ({ doc, provider }) => {
  const states = {}
  provider.awareness.getStates().forEach((state, clientId) => {
    if (clientId !== doc.clientID) states[clientId] = state
  })
  return states
}

const connect = (name, { url, room, state, params = {}, bc = false }) => {
  if (docs.has(name)) throw new Error(`doc ${name} already exists`)
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: !bc,
    connect: false,
    params
  })
  const entry = { doc, provider, status: 'disconnected', closes: [] }
  docs.set(name, entry)
  if (state !== undefined) provider.awareness.setLocalState(state)
  provider.on('status', ({ status }) => {
    entry.status = status
    send({ event: 'status', doc: name, status })
  })
  provider.on('sync', (synced) => send({ event: 'synced', doc: name, synced }))
  provider.on('connection-close', (event) => {
    const close = event === null ? { code: null, reason: 'closed by client' }
      : { code: event.code, reason: event.reason }
    entry.closes.push(close)
    send({ event: 'connection-close', doc: name, ...close })
  })
  provider.on('connection-error', () => send({ event: 'connection-error', doc: name }))
  provider.on('closed', ({ code, reason }) => send({ event: 'closed', doc: name, code, reason }))
  provider.connect()
  return { clientId: doc.clientID }
}

const elementMap = (fields) => {
  const element = new Y.Map()
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'points') element.set(key, Y.Array.from(value))
    else if (key === 'text') element.set(key, new Y.Text(value))
    else element.set(key, value)
  }
  return element
}

const elementOf = (doc, elementId) => {
  const element = doc.getMap('elements').get(elementId)
  if (!(element instanceof Y.Map)) throw new Error(`no element map ${elementId}`)
  return element
}

const subdocsOf = (map) => Object.fromEntries(Array.from(map.entries())
  .filter(([, value]) => value instanceof Y.Doc)
  .map(([key, sub]) => [key, { guid: sub.guid, meta: sub.meta ?? null, autoLoad: sub.autoLoad }]))

// Y.XmlHook extends Y.Map: test for it first.
const xmlNodeOf = (node) => node instanceof Y.XmlHook
  ? { hook: node.hookName, entries: node.toJSON() }
  : node instanceof Y.XmlElement ? { element: node.nodeName }
    : node instanceof Y.XmlText ? { text: node.toString() } : { other: node.constructor.name }

// {key: {hook, entries}} for each Y.XmlHook value of `map`, and {key: {fields: {...}}} for a
// Y.Map value holding hooks (one level down: an element with a hook field).
const hooksOf = (map) => {
  const found = {}
  for (const [key, value] of map.entries()) {
    if (value instanceof Y.XmlHook) {
      found[key] = { hook: value.hookName, entries: value.toJSON() }
    } else if (value instanceof Y.Map) {
      const inner = hooksOf(value)
      if (Object.keys(inner).length > 0) found[key] = { fields: inner }
    }
  }
  return found
}

const hookAt = (doc, fragment, index) => {
  const hook = doc.getXmlFragment(fragment).get(index)
  if (!(hook instanceof Y.XmlHook)) throw new Error(`no Y.XmlHook at ${fragment}[${index}]`)
  return hook
}

const dump = ({ doc, provider, status, closes },
  { maps = ['elements'], arrays = [], texts = [], subdocMaps = [], fragments = [], hookMaps = [] }) => ({
  clientId: doc.clientID,
  status,
  synced: provider.synced,
  shouldConnect: provider.shouldConnect,
  closes,
  stateVector: Object.fromEntries(Y.decodeStateVector(Y.encodeStateVector(doc))),
  maps: Object.fromEntries(maps.map((key) => [key, doc.getMap(key).toJSON()])),
  arrays: Object.fromEntries(arrays.map((key) => [key, doc.getArray(key).toJSON()])),
  texts: Object.fromEntries(texts.map((key) => [key, doc.getText(key).toString()])),
  subdocs: Object.fromEntries(subdocMaps.map((key) => [key, subdocsOf(doc.getMap(key))])),
  fragments: Object.fromEntries(fragments.map((key) =>
    [key, doc.getXmlFragment(key).toArray().map(xmlNodeOf)])),
  hooks: Object.fromEntries(hookMaps.map((key) => [key, hooksOf(doc.getMap(key))])),
  peers: othersStates({ doc, provider })
})

const commands = {
  connect,
  set: (name, { map = 'elements', key, value }) => {
    const { doc } = entryOf(name)
    doc.transact(() => doc.getMap(map).set(key, value))
  },
  delete: (name, { map = 'elements', key }) => {
    const { doc } = entryOf(name)
    doc.transact(() => doc.getMap(map).delete(key))
  },
  push: (name, { array, values }) => {
    const { doc } = entryOf(name)
    doc.transact(() => doc.getArray(array).push(values))
  },
  put_element: (name, { element, fields }) => {
    const { doc } = entryOf(name)
    doc.transact(() => doc.getMap('elements').set(element, elementMap(fields)))
  },
  put_elements: (name, { elements }) => {
    const { doc } = entryOf(name)
    const map = doc.getMap('elements')
    doc.transact(() => {
      for (const [id, fields] of Object.entries(elements)) map.set(id, elementMap(fields))
    })
  },
  fill: (name, { map = 'elements', prefix, count, size, perTransaction = 1 }) => {
    const { doc } = entryOf(name)
    const target = doc.getMap(map)
    for (let start = 0; start < count; start += perTransaction) {
      doc.transact(() => {
        for (let i = start; i < Math.min(count, start + perTransaction); i++) {
          const tag = `${prefix}${i}:`
          target.set(`${prefix}${i}`, tag + 'x'.repeat(Math.max(0, size - tag.length)))
        }
      })
    }
  },
  summary: (name, { map = 'elements' }) => {
    const { doc, provider, status, closes } = entryOf(name)
    return {
      keys: doc.getMap(map).size,
      updateBytes: Y.encodeStateAsUpdate(doc).length,
      stateVector: Object.fromEntries(Y.decodeStateVector(Y.encodeStateVector(doc))),
      status,
      synced: provider.synced,
      shouldConnect: provider.shouldConnect,
      closes
    }
  },
  edit_element: (name, { element, key, value }) => {
    const { doc } = entryOf(name)
    doc.transact(() => elementOf(doc, element).set(key, value))
  },
  type_text: (name, { element, index, text }) => {
    const { doc } = entryOf(name)
    doc.transact(() => elementOf(doc, element).get('text').insert(index, text))
  },
  add_subdocs: (name, { map, docs }) => {
    const { doc } = entryOf(name)
    for (const { key, guid, meta } of docs) {
      doc.transact(() => doc.getMap(map).set(key, new Y.Doc({ guid, meta })))
    }
  },
  add_xml_hook: (name, { fragment, name: hookName, values, count = 1 }) => {
    const { doc } = entryOf(name)
    doc.transact(() => {
      for (let i = 0; i < count; i++) {
        const hook = new Y.XmlHook(hookName)
        doc.getXmlFragment(fragment).push([hook])
        for (const [key, value] of Object.entries(values)) hook.set(key, value)
      }
    })
  },
  hook_set: (name, { fragment, index, key, value }) => {
    const { doc } = entryOf(name)
    doc.transact(() => hookAt(doc, fragment, index).set(key, value))
  },
  clear_fragment: (name, { fragment }) => {
    const { doc } = entryOf(name)
    const target = doc.getXmlFragment(fragment)
    doc.transact(() => target.delete(0, target.length))
  },
  put_hook: (name, { map = 'elements', key, name: hookName, values, field }) => {
    const { doc } = entryOf(name)
    doc.transact(() => {
      const hook = new Y.XmlHook(hookName)
      if (field === undefined) {
        doc.getMap(map).set(key, hook)
      } else {
        const element = new Y.Map()
        doc.getMap(map).set(key, element)
        element.set('kind', 'note')
        element.set(field, hook)
      }
      for (const [entry, value] of Object.entries(values)) hook.set(entry, value)
    })
  },
  read_update: (name, { hex, hookMaps = ['elements'] }) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Buffer.from(hex, 'hex'))
    return {
      hooks: Object.fromEntries(hookMaps.map((key) => [key, hooksOf(doc.getMap(key))])),
      maps: Object.fromEntries(hookMaps.map((key) => [key, doc.getMap(key).toJSON()]))
    }
  },
  send_frame: (name, { hex }) => {
    const { provider } = entryOf(name)
    if (provider.ws === null || !provider.wsconnected) throw new Error('not connected')
    provider.ws.send(Buffer.from(hex, 'hex'))
  },
  dump: (name, args) => dump(entryOf(name), args),
  awareness: (name, { state }) => { entryOf(name).provider.awareness.setLocalState(state) },
  peers: (name) => ({ peers: othersStates(entryOf(name)) }),
  disconnect: (name) => { entryOf(name).provider.disconnect() },
  connect_again: (name) => { entryOf(name).provider.connect() },
  quit: () => {
    docs.forEach(({ provider }) => provider.destroy())
    setImmediate(() => process.exit(0))
  }
}

const handle = (line) => {
  let request
  try {
    request = JSON.parse(line)
  } catch (error) {
    send({ event: 'bad-request', line, error: String(error) })
    return
  }
  const { id, cmd, doc = 'main', ...args } = request
  try {
    const command = commands[cmd]
    if (command === undefined) throw new Error(`unknown command ${cmd}`)
    send({ reply: id, ok: true, ...command(doc, args) })
  } catch (error) {
    send({ reply: id, error: String(error) })
  }
}

const input = readline.createInterface({ input: process.stdin })
input.on('line', handle)
// pytest went away: leave without lingering.
input.on('close', () => commands.quit())
send({ event: 'ready', package: providerPackage })
