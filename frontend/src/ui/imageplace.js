/**
 * Images onto the board: from the image tool's file picker, a drop, or a paste (ui/clipboard.js). The bytes go to the
 * server's files endpoint; the board only gets an `image` element with the returned fileId.
 */
import { uploadFile } from '../sync/api.js';
import { h, toast } from './dom.js';
import { carriesScene } from './scenefile.js';

/** Longest side of a newly placed image, in board units. */
const MAX_IMAGE_SIDE = 640;
/** What the files endpoint accepts (shared/BOARD.md: PNG, JPEG, GIF, WebP). */
const ACCEPTED = 'image/png,image/jpeg,image/gif,image/webp';

/**
 * @param {HTMLElement} stage the board area (drop target; the picker input lives in it)
 * @param {{board: import('../doc/board.js').Board, camera: import('../view/camera.js').Camera,
 *          boardId: string, token: string,
 *          onPlaced: (id: string) => void}} app
 * @returns {{pick: () => void, place: (file: File, at: {x: number, y: number}) => Promise<void>}}
 *   pick opens the file picker; place uploads an image and puts it centred at `at`
 */
export function attachImages(stage, app) {
  const center = () => app.camera.toWorld(app.camera.width / 2, app.camera.height / 2);
  const input = h('input', {
    type: 'file', accept: ACCEPTED, hidden: true,
    onchange: (event) => {
      const file = event.target.files?.[0];
      if (file) place(file, center());
      event.target.value = '';
    },
  });
  stage.append(input);
  stage.addEventListener('dragover', (event) => event.preventDefault());
  stage.addEventListener('drop', async (event) => {
    event.preventDefault();
    const file = [...(event.dataTransfer?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (!file) return;
    const rect = stage.getBoundingClientRect();
    const at = app.camera.toWorld(event.clientX - rect.left, event.clientY - rect.top);
    if (await carriesScene(file)) return; // an Excalidraw export: ui/interchange.js imports it
    place(file, at);
  });

  async function place(file, at) {
    if (app.board.readOnly) return;
    try {
      const [fileId, size] = await Promise.all([uploadFile(app.boardId, file, app.token), imageSize(file)]);
      const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(size.w, size.h));
      const w = size.w * scale;
      const hgt = size.h * scale;
      const id = app.board.create('image', { x: at.x - w / 2, y: at.y - hgt / 2, w, h: hgt, angle: 0, fileId, opacity: 1 });
      app.onPlaced(id);
    } catch (error) {
      toast(String(error.message || error), 'error');
    }
  }

  return { pick: () => input.click(), place };
}

function imageSize(file) {
  return createImageBitmap(file).then((bitmap) => {
    const size = { w: bitmap.width || 200, h: bitmap.height || 200 };
    bitmap.close();
    return size;
  }).catch(() => ({ w: 320, h: 240 }));
}
