/**
 * The comments panel: open threads (first message, author, replies) and, below, resolved ones;
 * a click jumps to the thread and opens it. Edit links also get the board's setting that lets
 * view-only links comment (meta.commentsForViewers).
 */
import { h } from '../ui/dom.js';

/**
 * @param {{comments: import('../doc/comments.js').Comments, editor: boolean,
 *          jump: (threadId: string) => void}} deps editor: an edit link (may change the setting)
 */
export function createCommentsPanel({ comments, editor, jump }) {
  const viewers = h('input', {
    type: 'checkbox', 'aria-label': 'View-only links may comment',
    onchange: () => comments.setViewersMayComment(viewers.checked),
  });
  const open = h('ul.thread-list');
  const resolved = h('ul.thread-list.resolved');
  const el = h('section.comments-panel.panel', { hidden: true, 'aria-label': 'Comments' }, [
    h('h3', {}, ['Comments']),
    editor ? h('label.people-toggle', {}, [viewers, 'View-only links may comment']) : null,
    open,
    h('h3', {}, ['Resolved']),
    resolved,
  ]);
  const item = (t) => {
    const first = t.messages.find((m) => !m.deleted);
    const replies = t.messages.filter((m) => !m.deleted).length - 1;
    return h('li', {}, [h('button.thread-item', { type: 'button', dataset: { thread: t.id }, onclick: () => jump(t.id) }, [
      h('strong', {}, [first?.author || t.createdBy || 'Guest']),
      `: ${(first?.text ?? '').slice(0, 80)}`,
      replies > 0 ? ` (${replies} repl${replies === 1 ? 'y' : 'ies'})` : '',
    ])]);
  };
  return {
    el,
    toggle() {
      el.hidden = !el.hidden;
    },
    /** Rebuild the lists; call when the comments or meta changed. */
    refresh() {
      viewers.checked = comments.viewersMayComment();
      const threads = comments.threads();
      open.replaceChildren(...threads.filter((t) => !t.resolved).map(item));
      resolved.replaceChildren(...threads.filter((t) => t.resolved).map(item));
    },
  };
}
