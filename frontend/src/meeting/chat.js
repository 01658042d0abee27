/**
 * Cursor chat: press `/`, type a short message; it shows beside your cursor for everyone for
 * CHAT_SHOW_MS after its last change (presence only, never in the document). Messages from
 * others are capped (signals.js) and shown with textContent, so markup stays text.
 */
import { h } from '../ui/dom.js';
import { isTextField } from '../input/keys.js';
import { CHAT_MAX_CHARS, CHAT_SHOW_MS, cutChat } from './signals.js';

/**
 * @param {{presence: import('../presence.js').Presence, camera: import('../view/camera.js').Camera,
 *          myPoint: () => {x: number, y: number}, color: () => string, onClose: () => void}} deps
 *   myPoint: where this user's cursor is on the board (or the centre of the view)
 */
export function createCursorChat({ presence, camera, myPoint, color, onClose }) {
  const input = h('input.cursor-chat-input', {
    type: 'text', maxlength: String(CHAT_MAX_CHARS), 'aria-label': 'Cursor chat', placeholder: 'Say something', hidden: true,
  });
  const layer = h('div.cursor-chat-layer', {}, [input]);
  /** Bubbles of others: clientId -> {el, n, text, since}. */
  const bubbles = new Map();
  let n = Math.floor(Math.random() * 1e6);
  let clearTimer = 0;
  let expiryTimer = 0;
  let at = null;

  const publish = (text) => {
    clearTimeout(clearTimer);
    const clean = cutChat(text);
    presence.setField('chat', clean ? { n: ++n, text: clean } : null);
    if (clean) clearTimer = setTimeout(() => presence.setField('chat', null), CHAT_SHOW_MS);
  };
  const close = (keep) => {
    if (input.hidden) return;
    input.hidden = true;
    if (!keep) publish('');
    onClose();
  };
  input.addEventListener('input', () => publish(input.value));
  input.addEventListener('keydown', (event) => {
    event.stopPropagation();
    if (event.key === 'Enter') close(true);
    else if (event.key === 'Escape') close(false);
  });
  input.addEventListener('blur', () => close(true));
  window.addEventListener('keydown', (event) => {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || isTextField(event.target)) return;
    event.preventDefault();
    at = myPoint();
    input.value = '';
    input.hidden = false;
    input.style.setProperty('--chat', color());
    place(input, camera, at);
    input.focus();
  });

  return {
    el: layer,
    /** Show, move and expire the bubbles of `peers`; call on presence change and camera move. */
    update(peers, now = performance.now()) {
      if (!input.hidden && at) place(input, camera, at);
      const seen = new Set();
      let nextExpiry = Infinity;
      for (const peer of peers) {
        const chat = peer.signals.chat;
        const where = peer.cursor ?? (peer.view ? { x: peer.view.x, y: peer.view.y } : null);
        if (!chat || !where) continue;
        let bubble = bubbles.get(peer.clientId);
        if (!bubble) {
          bubble = { el: h('div.cursor-chat', { dataset: { client: String(peer.clientId) } }), n: -1, text: '', since: now };
          bubbles.set(peer.clientId, bubble);
          layer.append(bubble.el);
        }
        if (bubble.n !== chat.n || bubble.text !== chat.text) {
          Object.assign(bubble, { n: chat.n, text: chat.text, since: now });
          bubble.el.textContent = chat.text;
        }
        const left = bubble.since + CHAT_SHOW_MS - now;
        if (left <= 0) continue;
        nextExpiry = Math.min(nextExpiry, left);
        seen.add(peer.clientId);
        bubble.el.hidden = false;
        bubble.el.style.setProperty('--chat', peer.color);
        place(bubble.el, camera, where);
      }
      for (const [clientId, bubble] of bubbles) {
        if (seen.has(clientId)) continue;
        bubble.el.hidden = true;
        if (!peers.some((p) => p.clientId === clientId && p.signals.chat)) {
          bubble.el.remove();
          bubbles.delete(clientId);
        }
      }
      clearTimeout(expiryTimer);
      if (nextExpiry < Infinity) expiryTimer = setTimeout(() => this.update(peers), nextExpiry + 20);
    },
  };
}

/** Put `el` just below and right of world point `p`, where a cursor's name label ends. */
function place(el, camera, p) {
  const s = camera.toScreen(p.x, p.y);
  el.style.transform = `translate(${Math.round(s.x + 14)}px, ${Math.round(s.y + 44)}px)`;
}
