/**
 * The smallest real collaborative text editor: ProseMirror (basic schema, base keymap), bound
 * to a Y.XmlFragment with y-prosemirror (sync, remote cursors, undo), and the unmodified
 * y-websocket provider. Query: ?server=ws://host:port/ws&room=<name>&user=<name>.
 * `window.editor` exposes read-only state for the test to check results.
 */
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { ySyncPlugin, yCursorPlugin, yUndoPlugin, undo, redo } from 'y-prosemirror'
import { EditorState, Selection } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { schema } from 'prosemirror-schema-basic'
import { keymap } from 'prosemirror-keymap'
import { baseKeymap } from 'prosemirror-commands'

const params = new URLSearchParams(location.search)
const ydoc = new Y.Doc()
const provider = new WebsocketProvider(params.get('server'), params.get('room'), ydoc)
const user = params.get('user') || 'anonymous'
provider.awareness.setLocalStateField('user', { name: user, color: '#e03131' })
const fragment = ydoc.getXmlFragment('prosemirror')
const closes = []
provider.on('connection-close', (event) => closes.push(event === null ? null : event.code))

const view = new EditorView(document.querySelector('#editor'), {
  state: EditorState.create({
    schema,
    plugins: [
      ySyncPlugin(fragment),
      yCursorPlugin(provider.awareness),
      yUndoPlugin(),
      keymap({ 'Mod-z': undo, 'Mod-y': redo, 'Mod-Shift-z': redo }),
      keymap(baseKeymap)
    ]
  })
})

window.editor = {
  synced: () => provider.synced,
  closes: () => closes.slice(),
  /** The paragraphs' text, one string each, from the ProseMirror document. */
  paragraphs: () => {
    const texts = []
    view.state.doc.forEach((node) => texts.push(node.textContent))
    return texts
  },
  /** Where ProseMirror has the caret: 'start' or 'end' of the document, else its position. */
  caret: () => {
    const { empty, head } = view.state.selection
    if (!empty) return null
    if (head === Selection.atStart(view.state.doc).head) return 'start'
    return head === Selection.atEnd(view.state.doc).head ? 'end' : head
  },
  /** The shared type as Yjs holds it (must match the editor's document). */
  yjsText: () => fragment.toString(),
  peers: () => provider.awareness.getStates().size - 1
}
