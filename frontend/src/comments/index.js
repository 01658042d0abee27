/**
 * Comments on the board (issue 20): the model (doc/comments.js), the comment tool, pins and
 * thread cards, and the comments panel, wired for the board page by `installComments`.
 */
import { h, toast } from '../ui/dom.js';
import { ICONS } from '../ui/icons.js';
import { Comments, pinPoint } from '../doc/comments.js';
import { createCommentTool } from './tool.js';
import { createThreadView } from './thread.js';
import { createCommentsPanel } from './panel.js';

/**
 * @param {{doc: import('yjs').Doc, scene: import('../render/scene.js').Scene,
 *          camera: import('../view/camera.js').Camera, author: () => string, viewer: boolean,
 *          tolerance: () => number, requestFrame: () => void, setTool: (name: string) => void}} page
 *   viewer: a view-only link (it writes comments only while meta.commentsForViewers is on)
 * @returns {{tool: import('../tools/tool.js').Tool, comments: Comments, elements: HTMLElement[],
 *            toolButton: HTMLElement, button: HTMLElement, reposition: () => void, close: () => void}}
 *   toolButton picks the comment tool, button opens the panel; close: the board can no longer
 *   be reached (no more writes)
 */
export function installComments(page) {
  let closed = false;
  let comments = null;
  const canWrite = () => !closed && (!page.viewer || comments.viewersMayComment());
  comments = new Comments(page.doc, { author: page.author, canWrite });
  const view = createThreadView({
    comments, scene: page.scene, camera: page.camera, me: page.author,
    onDone: () => page.setTool('select'),
  });
  const panel = createCommentsPanel({
    comments, editor: !page.viewer,
    jump: (id) => {
      const thread = comments.thread(id);
      if (!thread) return;
      const p = pinPoint(thread, page.scene);
      page.camera.centerOn(p.x, p.y);
      page.requestFrame();
      view.open(id);
    },
  });
  const tool = createCommentTool({
    scene: page.scene, tolerance: page.tolerance,
    compose: (pin) => {
      if (comments.canWrite()) view.compose(pin);
      else toast('Comments are turned off for view-only links on this board', 'error');
    },
  });
  let queued = false;
  const refresh = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      view.refresh();
      panel.refresh();
    });
  };
  comments.map.observeDeep(refresh);
  comments.meta.observe(refresh);
  refresh();
  const button = h('button.meeting-button', {
    type: 'button', title: 'Comments', 'aria-label': 'Comments', html: ICONS.comments,
    onclick: () => panel.toggle(),
  });
  const toolButton = h('button.meeting-button', {
    type: 'button', title: 'Comment — C', 'aria-label': 'Comment tool', dataset: { tool: 'comment' },
    html: ICONS.comment, onclick: () => page.setTool('comment'),
  });
  return {
    tool,
    comments,
    toolButton,
    button,
    elements: [view.pins, view.card, panel.el],
    reposition: view.reposition,
    close() {
      closed = true;
      refresh();
    },
  };
}
