/**
 * Reactions: a small palette of emoji; one click makes the emoji float up from your cursor for
 * everyone (presence only). Only emoji of the palette are shown, at most a few per second each.
 */
import { h } from '../ui/dom.js';
import { REACTIONS, REACTION_MS } from './signals.js';

/** Fewest milliseconds between two reactions of this user. */
const MIN_GAP_MS = 250;
/** Most floating emoji shown at once. */
const MAX_FLOATING = 40;

/**
 * @param {{presence: import('../presence.js').Presence, camera: import('../view/camera.js').Camera,
 *          myPoint: () => {x: number, y: number}}} deps
 */
export function createReactions({ presence, camera, myPoint }) {
  const layer = h('div.reaction-layer');
  const lastSeen = new Map();
  let n = Math.floor(Math.random() * 1e6);
  let last = 0;
  let clearTimer = 0;

  const float = (emoji, p) => {
    if (layer.childElementCount >= MAX_FLOATING) return;
    const s = camera.toScreen(p.x, p.y);
    const el = h('div.reaction', { style: `left:${Math.round(s.x)}px;top:${Math.round(s.y)}px` }, [emoji]);
    layer.append(el);
    setTimeout(() => el.remove(), REACTION_MS);
  };
  const send = (emoji) => {
    const now = performance.now();
    if (now - last < MIN_GAP_MS) return;
    last = now;
    const p = myPoint();
    presence.setField('reaction', { n: ++n, emoji, x: Math.round(p.x), y: Math.round(p.y) });
    float(emoji, p);
    clearTimeout(clearTimer);
    clearTimer = setTimeout(() => presence.setField('reaction', null), REACTION_MS);
  };
  const palette = h('div.reaction-palette.panel', { hidden: true, role: 'toolbar', 'aria-label': 'Reactions' },
    REACTIONS.map((emoji) => h('button.reaction-choice', { type: 'button', title: `React ${emoji}`, 'aria-label': `React ${emoji}`, onclick: () => send(emoji) }, [emoji])));

  return {
    el: layer,
    palette,
    toggle() {
      palette.hidden = !palette.hidden;
    },
    /** Float the reactions of `peers` that are new since the last call. */
    update(peers) {
      for (const peer of peers) {
        const reaction = peer.signals.reaction;
        if (!reaction) continue;
        if (lastSeen.get(peer.clientId) === reaction.n) continue;
        lastSeen.set(peer.clientId, reaction.n);
        float(reaction.emoji, reaction);
      }
    },
  };
}
