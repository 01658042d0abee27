/**
 * The board page: wires document, sync, presence, scene, camera, tools, input and UI together and
 * runs the frame loop (at most one paint per animation frame; the static layer only when the scene
 * or camera changed, the overlay when presence or selection changed).
 */
import * as Y from 'yjs';
import { Board } from '../doc/board.js';
import { elementDefaults } from '../doc/schema.js';
import { reorder } from '../doc/arrange.js';
import { connectBoard } from '../sync/provider.js';
import { downloadExport, boardPageUrl, uploadFile } from '../sync/api.js';
import { boardToken, rememberedToken, tokenRole } from '../sync/access.js';
import { boardSpace } from '../sync/spaces.js';
import { Presence } from '../presence.js';
import { Camera } from '../view/camera.js';
import { Scene } from '../render/scene.js';
import { ImageCache } from '../render/images.js';
import { readMeta } from '../render/element.js';
import { paintStatic } from '../render/canvas.js';
import { paintOverlay } from '../render/overlay.js';
import { FONT_FAMILY, measureText } from '../render/shapes.js';
import { darkColor } from '../render/palette.js';
import { attachPointer } from '../input/pointer.js';
import { attachKeys } from '../input/keys.js';
import { createSelectTool } from '../tools/select.js';
import { createPenTool } from '../tools/pen.js';
import { createShapeTool } from '../tools/shape.js';
import { createLineTool } from '../tools/line.js';
import { createTextTool } from '../tools/text.js';
import { createEraserTool } from '../tools/eraser.js';
import { createHandTool } from '../tools/hand.js';
import { createAttachments } from '../tools/attach.js';
import { nudge } from '../tools/moves.js';
import { createFramesPanel, frameView } from './frames.js';
import { loadIdentity, rememberBoard, rememberBoardTitle, saveIdentity } from './identity.js';
import { createToolbar } from './toolbar.js';
import { createStylePanel, STICKY_COLORS } from './stylepanel.js';
import { createTopbar } from './topbar.js';
import { createHelp } from './help.js';
import { createZoomControls } from './zoom.js';
import { TextEditor } from './texteditor.js';
import { attachImages } from './imageplace.js';
import { attachClipboard } from './clipboard.js';
import { copyFields } from './copies.js';
import { installInterchange, IMPORT_ACCEPT } from './interchange.js';
import { attachHistory } from './history.js';
import { applyTheme, isDark, toggleTheme } from './theme.js';
import { installArrange } from './arrange.js';
import { regroupCopies } from '../doc/groups.js';
import { h, toast } from './dom.js';
import { createRefusalNotice } from './refusal.js';
import { installMeeting } from '../meeting/index.js';
import { installComments } from '../comments/index.js';

const VIEW_PUBLISH_MS = 100;
const FRAME_SAMPLES = 240;

/**
 * Mount the board page for `boardId` into `root`.
 * @param {HTMLElement} root
 * @param {string} boardId
 */
export function mountBoardPage(root, boardId) {
  const identity = loadIdentity();
  rememberBoard(boardId);
  const token = boardToken(boardId);
  /** A view-only link, or (set later) a link that can no longer reach the board. */
  let readOnly = tokenRole(token) === 'view';
  const doc = new Y.Doc();
  const board = new Board(doc, () => identity.name, { readOnly });
  const camera = new Camera();
  const rectDefaults = elementDefaults('rect');
  const style = {
    stroke: rectDefaults.stroke ?? '#1e1e1e',
    fill: rectDefaults.fill ?? 'transparent',
    strokeWidth: rectDefaults.strokeWidth ?? 2,
    opacity: rectDefaults.opacity ?? 1,
    fontSize: elementDefaults('text').fontSize ?? 20,
    align: elementDefaults('text').align ?? 'left',
    stickyFill: elementDefaults('sticky').fill ?? STICKY_COLORS[0],
    arrowStart: elementDefaults('arrow').arrowStart ?? false,
    arrowEnd: elementDefaults('arrow').arrowEnd ?? true,
    strokeStyle: rectDefaults.strokeStyle ?? 'solid',
    routing: elementDefaults('arrow').routing ?? 'straight',
  };
  const stats = { paints: 0, overlayPaints: 0, lastPaintMs: 0, drawn: 0, skipped: 0, frameMs: [] };
  let rafId = 0;
  let overlayDirty = true;
  let staticDirty = true;
  let paintedCamera = -1;
  let paintedScene = -1;
  const nextFrame = new Set();

  // ---- DOM
  const staticCanvas = h('canvas.layer.static-layer');
  const overlayCanvas = h('canvas.layer.overlay-layer', { tabindex: '0', 'aria-label': 'Board canvas' });
  const stage = h('div.stage', {}, [staticCanvas, overlayCanvas]);
  const staticCtx = staticCanvas.getContext('2d');
  const overlayCtx = overlayCanvas.getContext('2d');
  const requestFrame = () => {
    if (!rafId) rafId = requestAnimationFrame(frame);
  };
  const requestOverlay = () => {
    overlayDirty = true;
    requestFrame();
  };

  const scene = new Scene(board.elements, requestFrame);
  const images = new ImageCache(() => {
    staticDirty = true;
    requestFrame();
  });
  // Text is painted in the bundled font (app.css's @font-face), which loads on first use: once
  // it has, everything is painted again. Line breaks never wait for it (render/textmetrics.js).
  document.fonts?.load(`16px ${FONT_FAMILY}`).then(() => {
    staticDirty = true;
    requestFrame();
  }, () => {});
  const selection = new Set();
  const overlayState = { marquee: null, eraserTrail: [], bindTarget: null };
  let following = null;
  /** Where the pointer is on the board (world units), null while it is elsewhere. */
  let pointerWorld = null;
  let spaceHeld = false;

  const editor = new TextEditor(stage, {
    board, scene, camera,
    requestFrame: () => {
      staticDirty = true; // the edited element's text is drawn by the editor, not the canvas
      requestFrame();
    },
  });
  // The pointer over the text editor is still on the board for everyone else.
  editor.textarea.addEventListener('pointermove', (event) => {
    const rect = overlayCanvas.getBoundingClientRect();
    pointerWorld = camera.toWorld(event.clientX - rect.left, event.clientY - rect.top);
    presence.setCursor(pointerWorld);
  });

  // ---- tools
  const app = {
    board, scene, camera, selection, style, overlayState, requestOverlay,
    setSelection, setTool, editText: (id, opts) => editor.open(id, opts),
    onNextFrame: (fn) => {
      nextFrame.add(fn);
      requestFrame();
    },
    tolerance: () => 6 / camera.zoom,
  };
  app.attach = createAttachments(app);
  board.beforeRemove = (ids) => app.attach.detachFrom(ids);
  board.removalOf = (ids) => app.attach.withContents(ids);
  scene.onOrphaned = (patches) => board.repairConnectors(patches);
  const tools = {
    select: createSelectTool(app),
    hand: createHandTool(app),
    pen: createPenTool(app),
    rect: createShapeTool(app, 'rect'),
    ellipse: createShapeTool(app, 'ellipse'),
    diamond: createShapeTool(app, 'diamond'),
    frame: createShapeTool(app, 'frame'),
    line: createLineTool(app, 'line'),
    arrow: createLineTool(app, 'arrow'),
    text: createTextTool(app, 'text'),
    sticky: createTextTool(app, 'sticky'),
    eraser: createEraserTool(app),
  };
  let tool = tools.select;

  // ---- UI
  const toolbar = createToolbar({
    onTool: setTool, onUndo: () => board.undo(), onRedo: () => board.redo(),
    tools: readOnly ? ['select', 'hand'] : null,
  });
  const stylePanel = createStylePanel({ onStyle: applyStyle, onAction: runAction });
  const help = createHelp();
  const framesPanel = createFramesPanel({
    onPick: (f) => {
      camera.fit(frameView(f), 0);
      stopFollowing();
      requestFrame();
    },
    onRename: readOnly ? null : (f) => {
      const name = prompt('Frame name', f.name);
      if (name !== null) board.update([[f.id, { name: name.trim().slice(0, 200) }]]);
    },
    onExport: (f) => downloadExport(boardId, 'svg', token, { frame: f.id }).catch((error) => toast(error.message, 'error')),
  });
  const topbar = createTopbar({
    boardId,
    readOnly,
    canShareView: !readOnly && Boolean(rememberedToken(boardId, 'view')),
    onExport: (format) => downloadExport(boardId, format, token).catch((error) => toast(error.message, 'error')),
    onShare: shareLink,
    onImport: (file) => interchange.importFile(file),
    onExportPanel: () => interchange.openExport(),
    importAccept: IMPORT_ACCEPT,
    onTheme: () => {
      topbar.setTheme(toggleTheme());
      staticDirty = true;
      requestFrame();
    },
    onHelp: () => help.toggle(),
    onFollow: follow,
    onRename: renameBoard,
    onRenameMe: renameMe,
    onRetry: () => conn.retryNow(),
    onGrid: () => runAction('grid'),
  });
  const zoom = createZoomControls({
    onZoom: (factor) => zoomBy(factor),
    onFit: zoomToFit,
    onReset: () => zoomTo(1),
  });
  // While following someone: a frame in their colour around the board and how to stop.
  const followLabel = h('span.follow-label');
  const followFrame = h('div.follow-frame', { hidden: true, 'aria-live': 'polite' }, [followLabel]);
  const refusal = createRefusalNotice({
    boardId,
    unsentUpdate: () => conn.unsentUpdate(),
    boardJson: () => boardAsJson(doc),
  });
  root.replaceChildren(h('div.board-page', {}, [stage, followFrame, topbar.el, toolbar.el, stylePanel.el, zoom.el, help.el, refusal.el, framesPanel.el]));
  if (!readOnly) {
    attachHistory({ page: root.querySelector('.board-page'), stage, board, camera, boardId, token,
      image: (fileId) => images.get(fileId), ink: () => (isDark() ? darkColor : undefined) });
  }
  applyTheme();
  topbar.setTheme(isDark());
  // Opened from a team space here: a link back to it (asked with the space's token, never the board's).
  boardSpace(boardId).then((space) => { if (space) topbar.setSpace(space); });

  // ---- sync and presence (after the UI: their first callbacks update it)
  let connection = { state: 'connecting', detail: '', pending: 0 };
  const conn = connectBoard(boardId, doc, token, {
    onStatus: (state, detail) => {
      connection = { ...connection, state, detail };
      updateStatus();
    },
    onPending: (pending) => {
      connection = { ...connection, pending };
      updateStatus();
    },
    onEditRefused: (reason) => refusal.show(reason),
    onBoardClosed: closeBoard,
  });
  const presence = new Presence(conn.awareness, identity, () => {
    requestOverlay();
    meeting.onPresence();
    updateParticipants();
    followPeer();
  });
  const comments = installComments({
    doc, scene, camera, author: () => identity.name, viewer: tokenRole(token) === 'view',
    tolerance: app.tolerance, requestFrame, setTool,
  });
  const meeting = installMeeting({
    stage, camera, presence, me: () => identity, following: () => following, follow, stopFollowing,
    requestOverlay, focusBoard: takeFocus, setTool, extraButtons: [comments.toolButton, comments.button],
  });
  Object.assign(tools, { laser: meeting.laserTool, comment: comments.tool });
  root.querySelector('.board-page').append(...comments.elements, ...meeting.elements);

  // ---- input
  attachPointer(overlayCanvas, {
    camera,
    activeTool: () => tool,
    panTool: tools.hand,
    spaceHeld: () => spaceHeld,
    onCursor: (world) => {
      pointerWorld = world;
      presence.setCursor(world);
    },
    requestFrame,
    onViewChangedByUser: stopFollowing,
    onPress: takeFocus,
    beginGesture: () => board.beginGesture(),
    endGesture: () => board.endGesture(),
  });
  attachKeys({
    setTool, setSpace: (held) => {
      spaceHeld = held;
      overlayCanvas.style.cursor = held ? 'grab' : tool.cursor;
    },
    undo: () => board.undo(), redo: () => board.redo(),
    duplicate: () => runAction('duplicate'),
    selectAll: () => setSelection(scene.ordered.map((el) => el.id)),
    deleteSelection: () => runAction('trash'),
    escape: () => {
      stopFollowing();
      setSelection([]);
      setTool('select');
    },
    bringForward: () => runAction('forward'), sendBackward: () => runAction('backward'),
    bringToFront: () => runAction('front'), sendToBack: () => runAction('back'),
    zoomToFit, zoomReset: () => zoomTo(1), zoomBy,
    toggleHelp: () => help.toggle(),
    arrange: (name) => runAction(name),
    nudge: (dx, dy, how) => nudge(app, selection, dx, dy, how),
  });
  const imagePlacer = attachImages(stage, {
    board, camera, boardId, token,
    onPlaced: (id) => {
      app.attach.settle([id], false); // placed in a frame: joins it
      setTool('select');
      setSelection([id]);
    },
  });
  const clipboard = attachClipboard({
    board, scene, camera, boardId, selection, setSelection, attach: app.attach,
    pointer: () => pointerWorld,
    placeImage: (file, at) => imagePlacer.place(file, at),
    uploadFile: (blob) => uploadFile(boardId, blob, token),
    image: (fileId) => images.get(fileId),
    importFile: (file) => interchange.importFile(file),
  });
  const arrange = installArrange(app, {
    stage, canvas: overlayCanvas, runAction, pasteLast: () => clipboard.pasteLast(), readOnly: () => readOnly,
    exportSelection: (region, ids) => downloadExport(boardId, 'svg', token, { region }, ids).catch((error) => toast(error.message, 'error')),
  });
  const interchange = installInterchange({
    stage, board, scene, boardId, token, selection, setSelection,
    importComments: (threads) => comments.comments.importThreads(threads),
  });
  stage.append(interchange.el);
  window.addEventListener('beforeunload', (event) => {
    if (conn.pending.count > 0) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
  board.undoManager.on('stack-item-added', updateHistory);
  board.undoManager.on('stack-item-popped', updateHistory);
  board.undoManager.on('stack-cleared', updateHistory);
  board.meta.observe(() => {
    const { title } = readMeta(board.meta);
    topbar.setTitle(title);
    rememberBoardTitle(boardId, title);
    staticDirty = true;
    requestFrame();
  });

  new ResizeObserver(resize).observe(stage);
  resize();
  setTool('select');
  updateHistory();
  updateStatus();
  updateParticipants();
  // Fit the view to the board once, when its content first arrives (local copy or server),
  // but never after the user has started to draw or move the view: the offline copy can
  // load after the first stroke, and a fit then would shift the view under the pointer.
  let fittedOnce = false;
  for (const type of ['pointerdown', 'wheel']) {
    stage.addEventListener(type, () => { fittedOnce = true; }, { capture: true, passive: true });
  }
  const fitWhenLoaded = () => {
    scene.refresh();
    if (fittedOnce || scene.ordered.length === 0) return;
    fittedOnce = true;
    zoomToFit();
  };
  conn.local.whenSynced.then(fitWhenLoaded);
  conn.provider.on('sync', (synced) => {
    if (!synced) return;
    board.initMeta();
    fitWhenLoaded();
  });

  /** Debug and test handle: the live objects of this page. */
  window.syncboard = {
    doc, board, provider: conn.provider, local: conn.local, pending: conn.pending, awareness: conn.awareness,
    scene, camera, presence, stats, selection, setTool, setSelection, meeting, comments: comments.comments,
    connectionState: conn.state, flushLocal: conn.flushLocal,
    /** Resolves once the next frame has been painted. */
    painted: () => new Promise((resolve) => { requestFrame(); nextFrame.add(() => requestAnimationFrame(() => resolve())); }),
  };

  // ---- functions
  function frame(now) {
    rafId = 0;
    const started = performance.now();
    for (const fn of [...nextFrame]) {
      nextFrame.delete(fn);
      fn();
    }
    scene.refresh();
    // Since the last frame, not since the last refresh: an input handler that read the scene
    // may have caught it up already (render/scene.js).
    const sceneChanged = scene.version !== paintedScene;
    if (sceneChanged) pruneSelection();
    const cameraMoved = camera.version !== paintedCamera;
    if (staticDirty || cameraMoved || sceneChanged) {
      const result = paintStatic(staticCtx, {
        scene, camera, dpr: devicePixelRatio || 1,
        gridColor: 'rgba(120,120,140,0.35)', meta: readMeta(board.meta),
        resources: {
          image: (fileId) => images.get(fileId), editingId: editor.editingId,
          ink: isDark() ? darkColor : undefined,
        },
      });
      stats.paints++;
      stats.lastPaintMs = result.ms;
      stats.drawn = result.drawn;
      stats.skipped = result.skipped;
      paintedScene = scene.version;
      staticDirty = false;
      overlayDirty = true;
    }
    if (overlayDirty) {
      paintOverlay(overlayCtx, {
        scene, camera, dpr: devicePixelRatio || 1, selection,
        marquee: overlayState.marquee, eraserTrail: overlayState.eraserTrail, bindTarget: overlayState.bindTarget,
        peers: presence.others(), showHandles: tool === tools.select && !editor.editingId && !readOnly,
      });
      arrange.paint(overlayCtx, devicePixelRatio || 1, tool === tools.select && !editor.editingId && !readOnly);
      stats.overlayPaints++;
      overlayDirty = false;
      if (meeting.paint(overlayCtx)) requestOverlay(); // a laser trail is fading
    }
    if (cameraMoved || sceneChanged) {
      editor.reposition();
      meeting.onCamera();
      comments.reposition();
      zoom.setZoom(camera.zoom);
      publishView();
    }
    if (sceneChanged) updateStylePanel();
    if (sceneChanged) framesPanel.update(scene);
    paintedCamera = camera.version;
    stats.frameMs.push(performance.now() - started);
    if (stats.frameMs.length > FRAME_SAMPLES) stats.frameMs.shift();
    stats.lastFrameAt = now;
  }

  function resize() {
    const rect = stage.getBoundingClientRect();
    const dpr = devicePixelRatio || 1;
    for (const canvas of [staticCanvas, overlayCanvas]) {
      canvas.width = Math.max(1, Math.round(rect.width * dpr));
      canvas.height = Math.max(1, Math.round(rect.height * dpr));
    }
    camera.setSize(rect.width, rect.height);
    staticDirty = true;
    overlayDirty = true;
    requestFrame();
  }

  /**
   * The focus model: a press on the board commits and closes the text editor and gives the
   * keyboard back to the board, away from any panel control (a slider, a button) clicked before.
   */
  function takeFocus() {
    editor.close();
    if (document.activeElement !== overlayCanvas) overlayCanvas.focus({ preventScroll: true });
  }

  function setTool(name) {
    if (readOnly && !['select', 'hand', 'laser', 'comment'].includes(name)) return;
    editor.close();
    if (name === 'image') {
      imagePlacer.pick();
      return;
    }
    const next = tools[name];
    if (!next) return;
    if (next !== tool) {
      tool.onExit?.();
      tool = next;
      tool.onEnter?.();
    }
    if (name !== 'select') setSelection([]);
    overlayCanvas.style.cursor = tool.cursor;
    toolbar.setActive(name);
    root.querySelector('.board-page')?.setAttribute('data-tool', name);
    updateStylePanel();
    requestOverlay();
  }

  function setSelection(ids) {
    const next = new Set(ids);
    if (next.size === selection.size && [...next].every((id) => selection.has(id))) return;
    selection.clear();
    for (const id of next) selection.add(id);
    presence.setSelection(selection);
    updateStylePanel();
    requestOverlay();
  }

  function pruneSelection() {
    const alive = [...selection].filter((id) => scene.byId.has(id));
    if (alive.length !== selection.size) setSelection(alive);
  }

  function updateStylePanel() {
    const selected = [...selection].map((id) => scene.byId.get(id)).filter(Boolean);
    const toolTypes = { pen: 'stroke' };
    const types = new Set(selected.length ? selected.map((el) => el.type) : [toolTypes[tool.name] ?? tool.name]);
    const first = selected[0];
    const current = first
      ? { ...style, stroke: first.stroke, fill: first.fill, strokeWidth: first.strokeWidth, opacity: first.opacity,
        fontSize: first.fontSize, align: first.align, arrowStart: first.arrowStart, arrowEnd: first.arrowEnd,
        stickyFill: first.type === 'sticky' ? first.fill : style.stickyFill,
        strokeStyle: first.strokeStyle, routing: first.routing }
      : style;
    const arrowheads = current.arrowStart ? (current.arrowEnd ? 'both' : 'start') : current.arrowEnd ? 'end' : 'none';
    const shown = { ...current, arrowheads };
    stylePanel.update({ types: readOnly ? new Set() : types, style: shown, hasSelection: !readOnly && selected.length > 0, count: selected.length });
  }

  function applyStyle(choice) {
    const patch = { ...choice };
    if ('arrowheads' in patch) {
      patch.arrowStart = patch.arrowheads === 'both';
      patch.arrowEnd = patch.arrowheads !== 'none';
      delete patch.arrowheads;
    }
    Object.assign(style, patch);
    if (selection.size > 0) {
      const patches = [];
      for (const id of selection) {
        const el = scene.byId.get(id);
        if (!el) continue;
        const p = { ...patch };
        if ('stickyFill' in p) {
          if (el.type === 'sticky') p.fill = p.stickyFill;
          delete p.stickyFill;
        }
        if (el.type === 'sticky' && 'fill' in patch && !('stickyFill' in patch)) delete p.fill;
        if (el.type !== 'arrow') {
          delete p.arrowStart;
          delete p.arrowEnd;
        }
        if (el.type !== 'arrow' && el.type !== 'line') delete p.routing;
        // A text element's box follows its content (a sticky note wraps inside its own box).
        if (el.type === 'text' && 'fontSize' in p) Object.assign(p, measureText(el.text || ' ', p.fontSize));
        patches.push([id, p]);
      }
      board.update(patches);
    }
    updateStylePanel();
  }

  function runAction(name) {
    if (arrange.run(name) || selection.size === 0) return;
    if (name === 'trash') {
      board.remove([...selection]);
      setSelection([]);
    } else if (name === 'duplicate') {
      const sources = scene.ordered.filter((el) => selection.has(el.id));
      const items = regroupCopies(sources.map((el) => duplicateOf(board.get(el.id), el)));
      board.beginGesture(); // one undo step: the copies and their bindings
      const ids = board.createMany(items);
      app.attach.copied(sources.map((el) => el.id), ids);
      board.endGesture();
      setSelection(ids);
    } else {
      const how = { forward: 'forward', backward: 'backward', front: 'front', back: 'back' }[name];
      board.setZ(reorder(scene.ordered, selection, how));
    }
  }

  function duplicateOf(ymap, drawn) {
    const plain = copyFields(ymap, drawn); // a routed connector where it is drawn
    plain.x = (plain.x ?? 0) + 16;
    plain.y = (plain.y ?? 0) + 16;
    delete plain.z;
    delete plain.createdBy;
    return plain;
  }

  function zoomBy(factor) {
    camera.zoomAt(factor, camera.width / 2, camera.height / 2);
    stopFollowing();
    requestFrame();
  }

  function zoomTo(level) {
    const c = viewCenter();
    camera.centerOn(c.x, c.y, level);
    stopFollowing();
    requestFrame();
  }

  function zoomToFit() {
    scene.refresh();
    const box = scene.contentBounds();
    if (box) camera.fit(box);
    else camera.centerOn(0, 0, 1);
    stopFollowing();
    requestFrame();
  }

  function viewCenter() {
    return camera.toWorld(camera.width / 2, camera.height / 2);
  }

  let lastViewPublish = 0;
  let viewTimer = 0;
  function publishView() {
    const wait = lastViewPublish + VIEW_PUBLISH_MS - performance.now();
    clearTimeout(viewTimer);
    if (wait > 0) {
      viewTimer = setTimeout(publishView, wait);
      return;
    }
    lastViewPublish = performance.now();
    const c = viewCenter();
    presence.setView({ x: c.x, y: c.y, zoom: camera.zoom, w: camera.width, h: camera.height });
  }

  function followPeer() {
    if (following === null) return;
    const peer = presence.others().find((p) => p.clientId === following);
    if (!peer) {
      following = null;
      updateParticipants();
      return;
    }
    if (peer.view) {
      camera.centerOn(peer.view.x, peer.view.y, peer.view.zoom);
      requestFrame();
    }
  }

  function follow(clientId) {
    following = clientId;
    updateParticipants();
    followPeer();
  }

  function stopFollowing() {
    if (following === null) return;
    following = null;
    updateParticipants();
  }

  function updateParticipants() {
    const others = presence.others();
    topbar.setParticipants(others, identity, following);
    const leader = following === null ? null : others.find((p) => p.clientId === following);
    followFrame.hidden = !leader;
    if (leader) {
      followFrame.style.setProperty('--follow', leader.color);
      followLabel.textContent = `Following ${leader.name} · Esc to stop`;
    }
  }

  function updateStatus() {
    topbar.setStatus(connection.state, connection.pending, connection.detail);
  }

  function updateHistory() {
    toolbar.setHistory(board.undoManager.canUndo(), board.undoManager.canRedo());
  }

  async function shareLink(role) {
    const url = boardPageUrl(boardId, role === 'view' ? rememberedToken(boardId, 'view') || token : token);
    try {
      await navigator.clipboard.writeText(url);
      toast(role === 'view' ? 'View-only link copied' : 'Board link copied');
    } catch {
      toast(url);
    }
  }

  function renameMe() {
    const name = prompt('Your name on this board', identity.name);
    if (name === null || !name.trim()) return;
    saveIdentity({ name });
    Object.assign(identity, loadIdentity());
    presence.setUser({ name: identity.name, color: identity.color });
    updateParticipants();
  }

  /**
   * This link can no longer reach the board: say why in plain words and make the page read-only
   * (edits would pile up that can never sync), keeping what it holds exportable.
   */
  function closeBoard(why) {
    const [heading, explanation] = {
      missing: ['This board does not exist', 'Check the link, or ask for a new one.'],
      revoked: ['This link was revoked: ask for a new one', 'The board\'s links were renewed, so this one no longer opens it.'],
      'needs-token': ['This board needs its link', 'Open it with the full link you were given (it ends in #t=...).'],
    }[why];
    readOnly = true;
    board.readOnly = true;
    comments.close();
    editor.close();
    setTool('select');
    toolbar.limit(['select', 'hand']);
    updateStylePanel();
    requestOverlay();
    refusal.showClosed(heading, explanation, conn.pending.count > 0);
  }

  function renameBoard(title) {
    board.setTitle(title);
  }
}

/** The board in the export form (shared/board.schema.json), from this tab's copy. */
function boardAsJson(doc) {
  const meta = doc.getMap('meta').toJSON();
  const elements = Object.entries(doc.getMap('elements').toJSON())
    .map(([id, fields]) => ({ id, ...fields }))
    .sort((a, b) => (a.z < b.z ? -1 : a.z > b.z ? 1 : 0));
  const comments = Object.entries(doc.getMap('comments').toJSON()).map(([id, fields]) => ({ id, ...fields }));
  return { schemaVersion: meta.schemaVersion ?? 1, meta, elements, ...(comments.length ? { comments } : {}) };
}
