/**
 * Comment pins and the thread card: one pin per open thread, kept on its element or point as
 * the view and the board move; the card lists a thread's messages (author, time, text as
 * text), takes replies, edits and deletions of your own messages, and resolves or reopens.
 */
import { h } from '../ui/dom.js';
import { pinPoint } from '../doc/comments.js';

/**
 * @param {{comments: import('../doc/comments.js').Comments, scene: import('../render/scene.js').Scene,
 *          camera: import('../view/camera.js').Camera, me: () => string, onDone: () => void}} deps
 */
export function createThreadView({ comments, scene, camera, me, onDone }) {
  const pins = h('div.comment-pins');
  const headSlot = h('div');
  const listSlot = h('div');
  const composeSlot = h('div');
  const card = h('section.comment-card.panel', { hidden: true, 'aria-label': 'Comment thread' }, [headSlot, listSlot, composeSlot]);
  let openId = null;
  /** What the composer slot was built for ("draft", or "<thread id>:<writable>:<resolved>"). */
  let composeKey = '';
  /** A new thread being written: its pin, until the first message is sent. */
  let draft = null;

  const place = (el, p, dx = 0, dy = 0) => {
    const s = camera.toScreen(p.x, p.y);
    el.style.transform = `translate(${Math.round(s.x + dx)}px, ${Math.round(s.y + dy)}px)`;
  };
  const composer = (label, onSend) => {
    const input = h('textarea.comment-input', { rows: '2', maxlength: '5000', 'aria-label': label, placeholder: label });
    const send = () => {
      if (!input.value.trim()) return;
      onSend(input.value);
      input.value = '';
    };
    input.addEventListener('keydown', (event) => {
      event.stopPropagation();
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        send();
      } else if (event.key === 'Escape') close();
    });
    return { input, el: h('div.comment-compose', {}, [input, h('button.comment-send', { type: 'button', onclick: send }, [label.startsWith('Reply') ? 'Reply' : 'Comment'])]) };
  };

  function open(id) {
    draft = null;
    openId = id;
    composeKey = '';
    render();
    card.querySelector('textarea')?.focus();
  }

  function compose(pin) {
    if (!comments.canWrite()) return;
    openId = null;
    draft = pin;
    composeKey = '';
    render();
    card.querySelector('textarea')?.focus();
  }

  function close() {
    openId = null;
    draft = null;
    card.hidden = true;
    onDone();
  }

  function render() {
    const threads = comments.threads();
    pins.replaceChildren(...threads.filter((t) => !t.resolved || t.id === openId).map((t) => {
      const pin = h('button.comment-pin', {
        type: 'button', dataset: { thread: t.id }, class: t.resolved ? 'resolved' : undefined,
        title: `${t.messages[0]?.author || t.createdBy}: ${t.messages[0]?.text ?? ''}`.slice(0, 200),
        onclick: () => open(t.id),
      }, [String(t.messages.filter((m) => !m.deleted).length)]);
      place(pin, pinPoint(t, scene), -4, -28);
      return pin;
    }));
    if (draft) {
      if (composeKey !== 'draft') {
        composeKey = 'draft';
        const { el } = composer('Write a comment', (text) => {
          const id = comments.create(draft, text);
          if (id) open(id);
        });
        headSlot.replaceChildren(h('header.comment-head', {}, [h('span', {}, ['New comment'])]));
        listSlot.replaceChildren();
        composeSlot.replaceChildren(el);
      }
      card.hidden = false;
      place(card, draft, 18, -10);
      return;
    }
    const thread = openId ? threads.find((t) => t.id === openId) : null;
    if (!thread) {
      card.hidden = true;
      return;
    }
    const writable = comments.canWrite();
    const head = h('header.comment-head', {}, [
      h('span', {}, [thread.resolved ? 'Resolved' : 'Thread']),
      writable ? h('button.comment-resolve', { type: 'button', onclick: () => comments.setResolved(thread.id, !thread.resolved) },
        [thread.resolved ? 'Reopen' : 'Resolve']) : null,
      h('button.comment-close', { type: 'button', 'aria-label': 'Close thread', onclick: close }, ['×']),
    ]);
    headSlot.replaceChildren(head);
    if (!listSlot.contains(document.activeElement)) { // not while a message is being edited
      listSlot.replaceChildren(h('ol.comment-messages', {}, thread.messages.map((m) => message(thread, m, writable))));
    }
    const key = `${thread.id}:${writable}:${thread.resolved}`;
    if (key !== composeKey) { // kept otherwise: a half-written reply survives others' replies
      composeKey = key;
      composeSlot.replaceChildren(writable && !thread.resolved ? composer('Reply', (text) => comments.reply(thread.id, text)).el : '');
    }
    card.hidden = false;
    place(card, pinPoint(thread, scene), 18, -10);
  }

  function message(thread, m, writable) {
    const text = h('div.comment-text', {}, [m.deleted ? 'Message deleted' : m.text]);
    const mine = writable && !m.deleted && m.author === me();
    const edit = () => {
      const input = h('input.comment-edit', { type: 'text', value: m.text, maxlength: '5000', 'aria-label': 'Edit message' });
      input.addEventListener('keydown', (event) => {
        event.stopPropagation();
        if (event.key !== 'Enter' && event.key !== 'Escape') return;
        input.blur();
        if (event.key === 'Enter') comments.edit(thread.id, m.id, input.value);
        render();
      });
      text.replaceChildren(input);
      input.focus();
    };
    return h('li.comment-message', { class: m.deleted ? 'deleted' : undefined, dataset: { message: m.id } }, [
      h('div.comment-meta', {}, [
        h('strong', {}, [m.author || 'Guest']),
        ` · ${new Date(m.at).toLocaleString()}${m.edited ? ' · edited' : ''}`,
      ]),
      text,
      mine ? h('div.comment-actions', {}, [
        h('button', { type: 'button', onclick: edit }, ['Edit']),
        h('button', { type: 'button', onclick: () => comments.remove(thread.id, m.id) }, ['Delete']),
      ]) : null,
    ]);
  }

  return {
    pins,
    card,
    open,
    compose,
    /** Rebuild after a change of the comments (a half-written reply or edit is kept). */
    refresh: render,
    reposition,
  };

  /** Move pins and the card with the view and their elements. */
  function reposition() {
    const byId = new Map(comments.threads().map((t) => [t.id, t]));
    for (const pin of pins.children) {
      const t = byId.get(pin.dataset.thread);
      if (t) place(pin, pinPoint(t, scene), -4, -28);
    }
    const t = openId ? byId.get(openId) : null;
    if (t) place(card, pinPoint(t, scene), 18, -10);
    else if (draft) place(card, draft, 18, -10);
  }
}
