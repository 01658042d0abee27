// Prints, as JSON {name: hex}, Yjs v1 updates made by the real Yjs library with every kind of
// content a client may send: strings, embeds, formats, every shared type (XmlHook included),
// Any values of every type, binary, subdocuments, deleted content, GC structs, skips (from
// mergeUpdates over a gap), and a 10,000-element paste. Used by tests/test_update_check.py.
//
//   node yjs_samples.mjs
import * as Y from 'yjs'

const samples = {}
const hex = (u) => Buffer.from(u).toString('hex')
const record = (name, doc) => { samples[name] = hex(Y.encodeStateAsUpdate(doc)) }

const text = new Y.Doc()
const t = text.getText('t')
t.insert(0, 'hello wörld 😀 ')
t.insert(3, 'bold', { bold: true })
t.insertEmbed(5, { image: 'https://example.org/x.png' })
t.format(0, 2, { italic: true })
t.delete(1, 2)
record('text with formats, embeds, deletions', text)

const types = new Y.Doc()
const root = types.getMap('elements')
types.transact(() => {
  const el = new Y.Map()
  root.set('e1', el)
  el.set('points', Y.Array.from([1, 2.5, -3]))
  el.set('text', new Y.Text('label'))
  el.set('any', { a: [1, null, true, false, 'x', { b: 2n ** 60n }], c: 1.5, u: undefined })
  el.set('bin', new Uint8Array([0, 1, 2, 255]))
  el.set('big', 2n ** 62n)
  const frag = new Y.XmlFragment()
  el.set('xml', frag)
  const p = new Y.XmlElement('p')
  p.setAttribute('class', 'c')
  frag.insert(0, [p, new Y.XmlText('tail')])
  p.insert(0, [new Y.XmlText('inner'), new Y.XmlHook('hook')])
})
record('every shared type, Any, binary', types)

const sub = new Y.Doc()
sub.getMap('docs').set('child', new Y.Doc({ guid: 'child-guid', meta: { title: 'x' }, autoLoad: true }))
record('subdocument', sub)

const gcDoc = new Y.Doc()
const gm = gcDoc.getMap('elements')
gm.set('a', new Y.Map([['x', 1], ['y', new Y.Text('abc')]]))
gm.set('b', 'kept')
gm.delete('a')
record('deleted nested type (GC structs)', gcDoc)

const nogc = new Y.Doc({ gc: false })
const ng = nogc.getText('t')
ng.insert(0, 'abcdef')
ng.delete(2, 2)
nogc.getArray('arr').insert(0, [1, 2, 3])
nogc.getArray('arr').delete(1, 1)
record('deleted content kept (gc off)', nogc)

// a skip: merge two updates of one client with a gap between them
const gap = new Y.Doc()
const updates = []
gap.on('update', (u) => updates.push(u))
const gt = gap.getText('t')
gt.insert(0, 'a')
gt.insert(1, 'b')
gt.insert(2, 'c')
samples['merged updates with a gap (skip)'] = hex(Y.mergeUpdates([updates[0], updates[2]]))
samples['single keystroke update'] = hex(updates[1])

const paste = new Y.Doc()
paste.transact(() => {
  const els = paste.getMap('elements')
  for (let i = 0; i < 10000; i++) {
    const el = new Y.Map()
    els.set(`e${i}`, el)
    el.set('type', 'stroke')
    el.set('x', i * 1.5)
    el.set('y', 2)
    el.set('stroke', '#000000')
    el.set('z', i)
    el.set('points', Y.Array.from(Array.from({ length: 40 }, (_, k) => k * 0.5 + i)))
    el.set('text', new Y.Text(`element ${i}`))
  }
})
record('paste of 10000 elements', paste)

// a long text typed one key at a time in one session, then encoded whole (Yjs merges it)
const typed = new Y.Doc()
const tt = typed.getText('t')
for (let i = 0; i < 20000; i++) tt.insert(i, 'x')
record('20000 keys typed', typed)

process.stdout.write(JSON.stringify(samples))
