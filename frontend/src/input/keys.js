/**
 * Keyboard shortcuts: one table (shown by the help overlay) mapping keys to board actions.
 * Shortcuts never fire while a text field (the text editor, a text input) has the focus, and
 * always fire otherwise: a slider or button clicked before does not swallow them.
 */

/** Tools and their keys, in toolbar order. */
export const TOOL_KEYS = [
  ['select', 'V', '1'], ['hand', 'H', '2'], ['pen', 'P', '3'], ['rect', 'R', '4'],
  ['ellipse', 'O', '5'], ['diamond', 'D', ''], ['line', 'L', '6'], ['arrow', 'A', '7'], ['text', 'T', '8'],
  ['sticky', 'N', '9'], ['eraser', 'E', '0'], ['frame', 'F', ''], ['image', 'I', ''],
];

/** Meeting tools (their buttons are in the meeting bar, not the tool bar) and their keys. */
export const MEETING_TOOL_KEYS = [['laser', 'K', ''], ['comment', 'C', '']];

/** Shortcuts other than tools, for the help overlay: [keys, description]. */
export const ACTION_HELP = [
  ['Ctrl/⌘ Z', 'Undo your last change'],
  ['Ctrl/⌘ Shift Z, Ctrl Y', 'Redo'],
  ['Delete / Backspace', 'Delete selection'],
  ['Ctrl/⌘ C, X, V', 'Copy, cut, paste (also between boards and apps)'],
  ['Ctrl/⌘ D', 'Duplicate selection'],
  ['Ctrl/⌘ A', 'Select all'],
  ['Escape', 'Deselect, back to select tool'],
  [']  /  [', 'Bring forward / send backward'],
  ['Ctrl/⌘ ]  /  [', 'Bring to front / send to back'],
  ['Arrow keys (Shift)', 'Nudge selection 1 px (10 px); grid on: 1 grid step (5), onto the grid'],
  ['Alt + arrow keys (Shift)', 'Nudge 1 px (10 px), also with the grid on'],
  ['Ctrl/⌘ G  /  Ctrl/⌘ Shift G', 'Group / ungroup (double-click enters a group)'],
  ['Ctrl/⌘ Shift L', 'Lock / unlock selection'],
  ["Ctrl/⌘ '", 'Show / hide the grid'],
  ['Alt while dragging', 'No snapping'],
  ['Shift while resizing / rotating', 'Keep proportions / turn in 15° steps'],
  ['Space + drag, middle drag', 'Pan'],
  ['Wheel, Ctrl/⌘ + wheel, pinch', 'Zoom'],
  ['Shift 1', 'Zoom to fit'],
  ['Ctrl/⌘ 0', 'Zoom to 100%'],
  ['+  /  -', 'Zoom in / out'],
  ['Double-click', 'Edit text or note; label a shape or arrow'],
  ['K', 'Laser pointer (press and drag)'],
  ['C', 'Comment: click an element or the board'],
  ['/', 'Cursor chat (Enter keeps it, Escape withdraws it)'],
  ['?', 'This help'],
];

/**
 * Listen for shortcuts on `window`.
 * @param {Record<string, (...args: any[]) => void>} actions
 */
export function attachKeys(actions) {
  let spaceHeld = false;
  window.addEventListener('keydown', (event) => {
    if (isTextField(event.target)) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key;
    const lower = key.length === 1 ? key.toLowerCase() : key;
    let handled = true;
    if (key === ' ') {
      spaceHeld = true;
      actions.setSpace(true);
    } else if (mod && lower === 'z') {
      if (event.shiftKey) actions.redo();
      else actions.undo();
    } else if (mod && lower === 'y') actions.redo();
    else if (mod && lower === 'd') actions.duplicate();
    else if (mod && lower === 'a') actions.selectAll();
    else if (mod && key === ']') actions.bringToFront();
    else if (mod && key === '[') actions.sendToBack();
    else if (mod && key === '0') actions.zoomReset();
    else if (mod && lower === 'g') actions.arrange(event.shiftKey ? 'ungroup' : 'group');
    else if (mod && event.shiftKey && lower === 'l') actions.arrange('lock');
    else if (mod && key === "'") actions.arrange('grid');
    else if (mod) handled = false;
    else if (key === 'Delete' || key === 'Backspace') actions.deleteSelection();
    else if (key === 'Escape') actions.escape();
    else if (key === ']') actions.bringForward();
    else if (key === '[') actions.sendBackward();
    else if (key === '!' || (event.shiftKey && event.code === 'Digit1')) actions.zoomToFit();
    else if (key === '?') actions.toggleHelp();
    else if (key === '+' || key === '=') actions.zoomBy(1.2);
    else if (key === '-' || key === '_') actions.zoomBy(1 / 1.2);
    else if (key.startsWith('Arrow')) {
      const [dx, dy] = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[key];
      actions.nudge(dx, dy, { large: event.shiftKey, offGrid: event.altKey }); // Alt: as in a drag, no grid
    } else {
      const tool = [...TOOL_KEYS, ...MEETING_TOOL_KEYS].find(([, letter, digit]) => lower === letter.toLowerCase() || (digit && key === digit));
      if (tool && !event.altKey) actions.setTool(tool[0]);
      else handled = false;
    }
    if (handled) event.preventDefault();
  });
  window.addEventListener('keyup', (event) => {
    if (event.key === ' ' && spaceHeld) {
      spaceHeld = false;
      actions.setSpace(false);
    }
  });
  window.addEventListener('blur', () => {
    if (spaceHeld) actions.setSpace(false);
    spaceHeld = false;
  });
}

/** Input types that take typed text; other inputs (range, checkbox, colour...) do not. */
const TEXT_INPUT_TYPES = new Set(['text', 'search', 'email', 'url', 'password', 'number', 'tel']);

/** Whether `target` takes typed text (there the browser's own keys, copy and paste apply). */
export function isTextField(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  return target instanceof HTMLInputElement && TEXT_INPUT_TYPES.has(target.type);
}
