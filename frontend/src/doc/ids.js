/** Random url-safe ids for elements (issue 3: "element id (random, url-safe)"). */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/**
 * Return a random url-safe id of `length` characters (64 symbols, 6 bits each).
 * @param {number} [length]
 * @returns {string}
 */
export function newId(length = 16) {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte & 63];
  return id;
}
