/**
 * Whether an image file is an Excalidraw export with its scene embedded ("Embed scene":
 * `.excalidraw.png`, `.excalidraw.svg`). Such a file dropped on the board is imported as a drawing
 * (ui/interchange.js), not placed as a picture (ui/imageplace.js). The server reads the scene
 * (backend/export/embedded.py); here only its marker is looked for: the PNG chunk's keyword or the
 * SVG's payload comment, both the ASCII text `application/vnd.excalidraw+json`.
 */
const MARKER = 'application/vnd.excalidraw+json';
/** Larger files are not searched: the server's import cap (64 MiB) refuses them anyway. */
const MAX_SEARCH_BYTES = 64 * 1024 * 1024;

/** @param {File} file @returns {Promise<boolean>} */
export async function carriesScene(file) {
  if (file.type !== 'image/png' && file.type !== 'image/svg+xml') return false;
  if (file.size > MAX_SEARCH_BYTES) return false;
  // Latin-1 keeps one character per byte, so the ASCII marker is found wherever it lies.
  return new TextDecoder('latin1').decode(await file.arrayBuffer()).includes(MARKER);
}
