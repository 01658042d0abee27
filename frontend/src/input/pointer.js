/**
 * Routes pointer and wheel events from the board's top canvas to the active tool (pointer events:
 * mouse, pen and touch alike). Space+drag and the middle button pan; a mouse wheel notch,
 * ctrl/cmd+wheel and trackpad pinch zoom; trackpad scrolling pans; two touch pointers pinch-zoom
 * and pan.
 */

/** Zoom factor per wheel pixel of ctrl+wheel / pinch. */
const ZOOM_PER_PIXEL = 0.0025;

/**
 * @param {HTMLElement} target the element receiving events (the overlay canvas)
 * @param {{camera: import('../view/camera.js').Camera, activeTool: () => import('../tools/tool.js').Tool,
 *          panTool: import('../tools/tool.js').Tool, spaceHeld: () => boolean,
 *          onCursor: (world: {x: number, y: number} | null) => void, requestFrame: () => void,
 *          onViewChangedByUser: () => void, onPress: () => void,
 *          beginGesture: () => void, endGesture: () => void}} app
 *   onPress runs first on every press on the board (it takes the keyboard focus); each drag
 *   from pointer down to up is one gesture (one undo step).
 */
export function attachPointer(target, app) {
  /** @type {import('../tools/tool.js').Tool | null} tool owning the current drag */
  let owner = null;
  let ownerPointer = -1;
  /** Active touch pointers for pinch: id -> screen point. */
  const touches = new Map();
  let pinch = null;

  /** End the current drag: the owning tool sees the release, the gesture closes. */
  const release = (event) => {
    const tool = owner;
    owner = null;
    tool.onPointerUp?.(toEvent(event));
    app.endGesture();
  };

  const toEvent = (event, samples) => {
    const rect = target.getBoundingClientRect();
    const sx = event.clientX - rect.left;
    const sy = event.clientY - rect.top;
    const world = app.camera.toWorld(sx, sy);
    const coalesced = samples
      ? samples.map((s) => app.camera.toWorld(s.clientX - rect.left, s.clientY - rect.top))
      : [world];
    return { x: world.x, y: world.y, sx, sy, shift: event.shiftKey, alt: event.altKey, samples: coalesced };
  };

  target.addEventListener('pointerdown', (event) => {
    app.onPress();
    if (event.pointerType === 'touch') {
      touches.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (touches.size === 2) {
        if (owner) release(event);
        pinch = pinchState(touches);
        return;
      }
    }
    if (owner || (event.pointerType === 'mouse' && event.button !== 0 && event.button !== 1)) return;
    target.setPointerCapture(event.pointerId);
    owner = event.button === 1 || app.spaceHeld() ? app.panTool : app.activeTool();
    ownerPointer = event.pointerId;
    app.beginGesture();
    owner.onPointerDown?.(toEvent(event));
    app.requestFrame();
    event.preventDefault();
  });

  target.addEventListener('pointermove', (event) => {
    if (event.pointerType === 'touch' && touches.has(event.pointerId)) {
      touches.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pinch && touches.size === 2) {
        const next = pinchState(touches);
        const rect = target.getBoundingClientRect();
        app.camera.panBy(next.cx - pinch.cx, next.cy - pinch.cy);
        app.camera.zoomAt(next.dist / pinch.dist, next.cx - rect.left, next.cy - rect.top);
        pinch = next;
        app.onViewChangedByUser();
        app.requestFrame();
        return;
      }
    }
    const samples = event.getCoalescedEvents?.() ?? [];
    const e = toEvent(event, samples.length ? samples : null);
    app.onCursor({ x: e.x, y: e.y });
    if (owner && event.pointerId === ownerPointer) {
      owner.onPointerMove?.(e);
      if (owner === app.panTool) app.onViewChangedByUser();
    }
    app.requestFrame();
  });

  const end = (event) => {
    touches.delete(event.pointerId);
    if (touches.size < 2) pinch = null;
    if (!owner || event.pointerId !== ownerPointer) return;
    release(event);
    app.requestFrame();
  };
  target.addEventListener('pointerup', end);
  target.addEventListener('pointercancel', end);
  target.addEventListener('pointerleave', (event) => {
    // Onto something laid over the board (the text editor) is still on the board.
    const onBoard = event.relatedTarget instanceof Node && target.parentElement?.contains(event.relatedTarget);
    if (event.pointerType === 'mouse' && !owner && !onBoard) app.onCursor(null);
  });

  target.addEventListener('dblclick', (event) => {
    app.activeTool().onDoubleClick?.(toEvent(event));
    app.requestFrame();
  });

  target.addEventListener('wheel', (event) => {
    event.preventDefault();
    const rect = target.getBoundingClientRect();
    const scale = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? rect.height : 1;
    const dx = event.deltaX * scale;
    const dy = event.deltaY * scale;
    if (event.ctrlKey || event.metaKey || isMouseWheelNotch(event)) {
      app.camera.zoomAt(Math.exp(-dy * ZOOM_PER_PIXEL), event.clientX - rect.left, event.clientY - rect.top);
    } else if (event.shiftKey && dx === 0) {
      app.camera.panBy(-dy, 0);
    } else {
      app.camera.panBy(-dx, -dy);
    }
    app.onViewChangedByUser();
    app.requestFrame();
  }, { passive: false });

  target.addEventListener('contextmenu', (event) => event.preventDefault());
  // onPress already moved the focus to the board; the default would undo what a tool did next
  // (focus a text editor it just opened).
  target.addEventListener('mousedown', (event) => event.preventDefault());
}

/** A mouse wheel moves in whole lines or in large integral vertical steps; a trackpad does not. */
function isMouseWheelNotch(event) {
  if (event.deltaMode === 1) return true;
  return event.deltaX === 0 && Number.isInteger(event.deltaY) && Math.abs(event.deltaY) >= 50;
}

function pinchState(touches) {
  const [a, b] = [...touches.values()];
  return { cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, dist: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)) };
}
