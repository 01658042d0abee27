/**
 * Image cache: loads uploaded files by fileId (once) and tells the frame loop when one arrives.
 */
import { fileUrl } from '../sync/api.js';

export class ImageCache {
  /** @param {() => void} onLoad called when an image finished loading (repaint) */
  constructor(onLoad) {
    this._onLoad = onLoad;
    /** @type {Map<string, HTMLImageElement>} */
    this._images = new Map();
  }

  /** The loaded image for `fileId`, or null while it loads or if it failed. */
  get(fileId) {
    let img = this._images.get(fileId);
    if (!img) {
      img = new Image();
      img.decoding = 'async';
      img.onload = () => this._onLoad();
      img.src = fileUrl(fileId);
      this._images.set(fileId, img);
    }
    return img.complete && img.naturalWidth > 0 ? img : null;
  }
}
