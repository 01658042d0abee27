/** A tiny DOM builder: h('button.tool', {title: 'Pen', onclick}, [child, 'text']). */

/**
 * @param {string} tag tag name with optional `.class` suffixes
 * @param {Record<string, any>} [props] attributes; `on*` functions become listeners,
 *   `dataset` an object, `style` a CSS text (applied through CSSOM, which the page's CSP allows),
 *   `html` sets innerHTML from trusted constant markup (icons)
 * @param {Array<Node | string | null | false>} [children]
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, children = []) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'html') el.innerHTML = value;
    else if (key === 'class') el.className += ` ${value}`;
    else if (key === 'style') el.style.cssText = value; // CSSOM: allowed under style-src 'self'
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === false || child === undefined) continue;
    el.append(child);
  }
  return el;
}

/** Show a short message at the bottom of the screen. */
export function toast(message, kind = 'info') {
  const el = h(`div.toast.toast-${kind}`, { role: 'status' }, [message]);
  document.body.append(el);
  setTimeout(() => el.classList.add('toast-out'), 2600);
  setTimeout(() => el.remove(), 3000);
}
