/**
 * Running a meeting on a board (issue 20): laser pointer, cursor chat, reactions, others'
 * viewports, "bring everyone to me". Everything here travels in presence, never in the
 * document; `installMeeting` wires the parts into the board page.
 */
import { h } from '../ui/dom.js';
import { ICONS } from '../ui/icons.js';
import { createLaserTool, LaserTrails } from './laser.js';
import { createCursorChat } from './chat.js';
import { createReactions } from './reactions.js';
import { createPeoplePanel } from './people.js';
import { paintViewports } from './viewports.js';

/**
 * @param {{stage: HTMLElement, camera: import('../view/camera.js').Camera,
 *          presence: import('../presence.js').Presence, me: () => {name: string, color: string},
 *          following: () => number | null, follow: (clientId: number | null) => void,
 *          stopFollowing: () => void, requestOverlay: () => void, focusBoard: () => void,
 *          setTool: (name: string) => void, extraButtons?: HTMLElement[]}} page
 *   extraButtons join the meeting bar (bottom right)
 * @returns {{laserTool: import('../tools/tool.js').Tool, elements: HTMLElement[],
 *            onPresence: () => void, paint: (ctx: CanvasRenderingContext2D) => boolean,
 *            onCamera: () => void, trails: LaserTrails}}
 *   paint draws on the overlay after its own painting and returns whether to paint again
 *   next frame (a trail is fading)
 */
export function installMeeting(page) {
  const { stage, camera, presence, requestOverlay } = page;
  let lastPoint = null;
  stage.addEventListener('pointermove', (event) => {
    const rect = stage.getBoundingClientRect();
    lastPoint = camera.toWorld(event.clientX - rect.left, event.clientY - rect.top);
  });
  /** Where this user points on the board: the last pointer position, else the view's centre. */
  const myPoint = () => lastPoint ?? camera.toWorld(camera.width / 2, camera.height / 2);

  const trails = new LaserTrails();
  const laserTool = createLaserTool({ presence, trails, me: page.me, requestOverlay });
  const chat = createCursorChat({ presence, camera, myPoint, color: () => page.me().color, onClose: page.focusBoard });
  const reactions = createReactions({ presence, camera, myPoint });
  const people = createPeoplePanel({
    presence, me: page.me, following: page.following, follow: page.follow,
    jumpTo: (view) => {
      page.stopFollowing();
      camera.centerOn(view.x, view.y, view.zoom);
      requestOverlay();
    },
    onToggle: requestOverlay,
  });
  const button = (label, title, onclick, html) => h('button.meeting-button', { type: 'button', title, 'aria-label': title, onclick, html }, html ? [] : [label]);
  const bar = h('div.meeting-bar.panel', {}, [
    h('button.meeting-button', {
      type: 'button', title: 'Laser pointer — K', 'aria-label': 'Laser pointer', dataset: { tool: 'laser' },
      html: ICONS.laser, onclick: () => page.setTool('laser'),
    }),
    button('😀', 'Reactions', () => {
      people.el.hidden = true; // they open in the same place
      reactions.toggle();
    }),
    button('', 'People and viewports', () => {
      reactions.palette.hidden = true;
      people.toggle();
    }, ICONS.people),
    ...(page.extraButtons ?? []),
  ]);

  const onPresence = () => {
    const others = presence.others();
    trails.update(others, presence.awareness.clientID);
    chat.update(others);
    reactions.update(others);
    people.update(others);
  };
  onPresence();
  return {
    laserTool,
    trails,
    elements: [chat.el, reactions.el, people.el, reactions.palette, bar],
    onPresence,
    onCamera: () => chat.update(presence.others()),
    paint(ctx) {
      if (people.showViewports) paintViewports(ctx, camera, presence.others());
      return trails.paint(ctx, camera);
    },
  };
}
