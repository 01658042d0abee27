/**
 * The comment tool: a click pins a new thread to the element under the pointer (it then moves
 * with the element) or to the board point, and opens the composer for its first message.
 */
import { topElementAt } from '../render/hit.js';
import { pinAt } from '../doc/comments.js';

/**
 * @param {{scene: import('../render/scene.js').Scene, tolerance: () => number,
 *          compose: (pin: ReturnType<typeof pinAt>) => void}} deps
 * @returns {import('../tools/tool.js').Tool}
 */
export function createCommentTool({ scene, tolerance, compose }) {
  return {
    name: 'comment',
    cursor: 'copy',
    onPointerUp(e) {
      scene.refresh();
      compose(pinAt(e.x, e.y, topElementAt(scene, e.x, e.y, tolerance())));
    },
  };
}
