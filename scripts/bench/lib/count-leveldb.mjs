/**
 * Prints {"<board>": <elements>, ...} for every document in a y-leveldb folder (the Node reference
 * server's YPERSISTENCE store), for the P1 benchmark's count of what survived a kill.
 * Usage: node count-leveldb.mjs <folder>
 */
import { LeveldbPersistence } from 'y-leveldb'

const persistence = new LeveldbPersistence(process.argv[2])
const counts = {}
for (const name of await persistence.getAllDocNames()) {
  const doc = await persistence.getYDoc(name)
  counts[name] = doc.getMap('elements').size
  doc.destroy()
}
await persistence.destroy()
process.stdout.write(JSON.stringify(counts) + '\n')
