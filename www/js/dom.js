// The page's one DOM helper.

/** The namespace of the SVG elements the views build. */
export const SVG = 'http://www.w3.org/2000/svg';

/** `el('div#id.class', {attrs}, ...children)`: a tiny element builder. */
export function el(tag, attrs = {}, ...children) {
  const [head, ...classes] = tag.split('.');
  const [name, id] = head.split('#');
  const node = document.createElement(name);
  if (id) node.id = id;
  if (classes.length) node.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

/**
 * A number with its thousands set apart by commas, `12,345` (what `toLocaleString('en-US')`
 * writes for whole numbers): without waking the browser's locale data, whose first use blocks
 * the page's thread for about 20 ms.
 */
export function grouped(n) {
  const [whole, frac] = String(n).split('.');
  return whole.replace(/\B(?=(\d{3})+$)/g, ',') + (frac === undefined ? '' : `.${frac}`);
}
