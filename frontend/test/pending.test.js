// Counting unconfirmed local changes (sync/pending.js) against a second doc playing the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { changedElementIds, PendingChanges } from '../src/sync/pending.js';

function setup() {
  const client = new Y.Doc();
  const server = new Y.Doc();
  const counts = [];
  const pending = new PendingChanges(client, '', (count) => counts.push(count));
  const local = [];
  client.on('update', (update, origin) => {
    if (origin !== 'server') {
      pending.addLocal(update);
      local.push(update);
    }
  });
  return { client, server, pending, local, counts };
}

test('each local change counts until the server echoes it back', () => {
  const { client, server, pending, local } = setup();
  const elements = client.getMap('elements');
  elements.set('a', new Y.Map());
  elements.get('a').set('x', 1);
  elements.get('a').set('x', 2); // an overwrite also deletes the old value
  assert.equal(pending.count, 3);
  for (const update of local) Y.applyUpdate(server, update, 'client');
  pending.addRemote(local[0]);
  assert.equal(pending.count, 2);
  pending.addRemote(Y.mergeUpdates(local.slice(1)));
  assert.equal(pending.count, 0);
});

test('a probe answer (sync step 2 against the probe state vector) confirms what the server has', () => {
  const { client, server, pending, local } = setup();
  const text = new Y.Text();
  client.getMap('elements').set('n', text);
  text.insert(0, 'hello');
  text.delete(0, 1);
  Y.applyUpdate(server, local[0], 'client'); // the server only got the first change
  const answer1 = Y.encodeStateAsUpdate(server, Y.encodeStateVector(pending.probeStateVector()));
  pending.addRemote(answer1);
  assert.equal(pending.count, 2);
  for (const update of local.slice(1)) Y.applyUpdate(server, update, 'client');
  pending.addRemote(Y.encodeStateAsUpdate(server, Y.encodeStateVector(pending.probeStateVector())));
  assert.equal(pending.count, 0);
});

test('other clients\' updates confirm nothing of ours', () => {
  const { client, pending } = setup();
  client.getMap('elements').set('a', 1);
  const other = new Y.Doc();
  other.getMap('elements').set('b', 2);
  pending.addRemote(Y.encodeStateAsUpdate(other));
  assert.equal(pending.count, 1);
});

test('the count is of elements touched, not of CRDT updates', () => {
  const client = new Y.Doc();
  const server = new Y.Doc();
  const pending = new PendingChanges(client, '', () => {});
  const elements = client.getMap('elements');
  const meta = client.getMap('meta');
  const local = [];
  client.on('update', (update, origin, _doc, transaction) => {
    if (origin === 'server') return;
    pending.addLocal(update, changedElementIds(transaction, elements, meta));
    local.push(update);
  });
  const stroke = new Y.Map();
  elements.set('s', stroke);
  stroke.set('points', new Y.Array());
  for (let i = 0; i < 30; i++) stroke.get('points').push([i, i]); // a pen stroke: 30 more updates
  const note = new Y.Map();
  elements.set('n', note);
  note.set('text', new Y.Text());
  note.get('text').insert(0, 'hello');
  meta.set('title', 'Retro');
  assert.equal(local.length, 36);
  assert.equal(pending.count, 3); // the stroke, the note, the title
  elements.delete('s');
  assert.equal(pending.count, 3);
  for (const update of local) Y.applyUpdate(server, update, 'client');
  pending.addRemote(Y.encodeStateAsUpdate(server));
  assert.equal(pending.count, 0);
});
