// Preloaded with `node --import ./fast_clock.mjs` when YJS_CLIENT_TIME_SCALE=N (N > 1): the
// client's clock runs N times faster. Date.now and the timers of setTimeout/setInterval are
// scaled before y-websocket, y-protocols and lib0 load (lib0 keeps a reference to Date.now), so
// the stock provider's 30 s "no message received" watchdog and its 15 s awareness renewal
// happen after 30/N and 15/N real seconds, unchanged otherwise. Tests that must let minutes of
// the client's time pass use this instead of sleeping.
const scale = Number(process.env.YJS_CLIENT_TIME_SCALE || '1')
if (!(scale >= 1)) throw new Error(`YJS_CLIENT_TIME_SCALE must be >= 1, not ${scale}`)
if (scale > 1) {
  const realNow = Date.now
  const origin = realNow()
  Date.now = () => Math.floor(origin + (realNow() - origin) * scale)
  const realSetTimeout = globalThis.setTimeout
  const realSetInterval = globalThis.setInterval
  globalThis.setTimeout = (callback, ms = 0, ...args) =>
    realSetTimeout(callback, ms / scale, ...args)
  globalThis.setInterval = (callback, ms = 0, ...args) =>
    realSetInterval(callback, ms / scale, ...args)
}
