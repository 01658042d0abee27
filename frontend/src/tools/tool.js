/**
 * The contract between the input router and the tools. Each tool is a small state machine created
 * by a factory `createXTool(app)`; it edits the board through `app.board` and never paints.
 *
 * @typedef {object} ToolEvent
 * @property {number} x world x
 * @property {number} y world y
 * @property {number} sx screen x (CSS pixels, relative to the board)
 * @property {number} sy screen y
 * @property {boolean} shift
 * @property {boolean} alt
 * @property {Array<{x: number, y: number}>} samples coalesced world points since the last event
 *
 * @typedef {object} Tool
 * @property {string} name
 * @property {string} cursor CSS cursor while the tool is active
 * @property {(e: ToolEvent) => void} [onPointerDown]
 * @property {(e: ToolEvent) => void} [onPointerMove]
 * @property {(e: ToolEvent) => void} [onPointerUp]
 * @property {(e: ToolEvent) => void} [onDoubleClick]
 * @property {() => void} [onEnter]
 * @property {() => void} [onExit]
 *
 * @typedef {object} ToolApp
 * @property {import('../doc/board.js').Board} board
 * @property {import('../render/scene.js').Scene} scene
 * @property {import('../view/camera.js').Camera} camera
 * @property {Set<string>} selection
 * @property {(ids: Iterable<string>) => void} setSelection
 * @property {{stroke: string, fill: string, strokeWidth: number, opacity: number, fontSize: number,
 *             align: string, stickyFill: string, arrowStart: boolean, arrowEnd: boolean}} style
 * @property {(name: string) => void} setTool
 * @property {{marquee: object | null, eraserTrail: Array<{x: number, y: number}>}} overlayState
 * @property {() => void} requestOverlay
 * @property {(fn: () => void) => void} onNextFrame run once before the next paint
 * @property {(id: string, opts?: {removeIfEmpty?: boolean}) => void} editText
 * @property {() => number} tolerance hit slack in world units
 */
export {};
