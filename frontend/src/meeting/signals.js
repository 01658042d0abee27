/**
 * Meeting signals carried in presence (awareness) next to cursor and view: the laser trail,
 * cursor chat, a reaction, and "bring everyone to me". Each is an optional top-level field of
 * the awareness state, so stock Yjs clients and older pages ignore it, and the server's caps on
 * presence (--presence-max-state-bytes) still hold. Everything read from another peer is
 * hostile: `readSignals` keeps only well-formed, capped values; anything else reads as absent.
 *
 * Wire form (every field may be missing or null):
 *   laser:    {n, pts: [[x, y], ...]}   the last LASER_POINTS points; pts[i] is point
 *             n - pts.length + 1 + i of this user's trail, so receivers add only new ones
 *   chat:     {n, text}                 text at most CHAT_MAX_CHARS; n counts messages
 *   reaction: {n, emoji, x, y}          emoji from REACTIONS only; (x, y) world point
 *   summon:   {n}                       "bring everyone to me": followers follow this user
 */

/** Points of the laser trail each presence update repeats (receivers skip those they have). */
export const LASER_POINTS = 24;
/** A laser point fades out this long after it arrived. */
export const LASER_FADE_MS = 900;
/** Longest cursor-chat message, in characters (longer ones are cut). */
export const CHAT_MAX_CHARS = 80;
/** A chat message shows this long after its last change. */
export const CHAT_SHOW_MS = 5000;
/** The reactions palette; a reaction with anything else is ignored. */
export const REACTIONS = ['👍', '❤️', '😂', '🎉', '👏', '❓'];
/** A reaction floats this long. */
export const REACTION_MS = 1600;

/**
 * @typedef {object} Signals
 * @property {{n: number, pts: Array<{x: number, y: number}>} | null} laser
 * @property {{n: number, text: string} | null} chat
 * @property {{n: number, emoji: string, x: number, y: number} | null} reaction
 * @property {{n: number} | null} summon
 */

/**
 * The meeting signals of one awareness state, validated and capped.
 * @param {Record<string, any>} state
 * @returns {Signals}
 */
export function readSignals(state) {
  return {
    laser: readLaser(state.laser),
    chat: readChat(state.chat),
    reaction: readReaction(state.reaction),
    summon: isObject(state.summon) && isCount(state.summon.n) ? { n: state.summon.n } : null,
  };
}

function readLaser(raw) {
  if (!isObject(raw) || !isCount(raw.n) || !Array.isArray(raw.pts)) return null;
  const pts = [];
  for (const p of raw.pts.slice(-LASER_POINTS)) {
    if (Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])) pts.push({ x: p[0], y: p[1] });
    else return null; // a gap would shift the numbering of the points after it
  }
  return pts.length ? { n: raw.n, pts } : null;
}

function readChat(raw) {
  if (!isObject(raw) || !isCount(raw.n) || typeof raw.text !== 'string') return null;
  const text = cutChat(raw.text);
  return text ? { n: raw.n, text } : null;
}

function readReaction(raw) {
  if (!isObject(raw) || !isCount(raw.n) || !REACTIONS.includes(raw.emoji)) return null;
  if (!Number.isFinite(raw.x) || !Number.isFinite(raw.y)) return null;
  return { n: raw.n, emoji: raw.emoji, x: raw.x, y: raw.y };
}

/** A chat message as shown: control characters become spaces, at most CHAT_MAX_CHARS. */
export function cutChat(text) {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/[\u0000-\u001f\u007f]/g, ' ')].slice(0, CHAT_MAX_CHARS).join('').trim();
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value) {
  return Number.isSafeInteger(value) && value >= 0;
}
