/**
 * A `ws` WebSocket for simulated clients that receive every frame but do not decode document
 * updates (y-websocket sync sub-type 2). The provider stays unmodified: it is handed this class
 * as its `WebSocketPolyfill` and sees every other frame (sync step 1/2, awareness) as usual.
 * This keeps one load-generator process from being the bottleneck of a benchmark.
 */
import WebSocket from 'ws'

const MESSAGE_SYNC = 0
const SYNC_UPDATE = 2

/** Frame and byte counts of the updates skipped by all SkippingSocket instances. */
export const skipped = { frames: 0, bytes: 0 }

export class SkippingSocket extends WebSocket {
  set onmessage (handler) {
    if (handler === null) {
      super.onmessage = null
      return
    }
    super.onmessage = (event) => {
      const data = new Uint8Array(event.data)
      if (data.length > 1 && data[0] === MESSAGE_SYNC && data[1] === SYNC_UPDATE) {
        skipped.frames++
        skipped.bytes += data.length
        return
      }
      handler(event)
    }
  }

  get onmessage () {
    return super.onmessage
  }
}
