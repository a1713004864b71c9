// What every scene shares: its section, the context from the router, and small DOM helpers.

export class Scene {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.api = ctx.api;
    this.shared = ctx.shared;
  }

  /** Settings to keep in the URL hash (strings only). */
  getState() { return {}; }

  /** Restores settings from the URL hash; unknown or invalid values are ignored. */
  setState(_params) {}

  show() {}

  hide() {}

  /**
   * Says what a link asked for that could not be honoured, and what opened instead (a
   * visible note under the scene's heading; an empty list hides it).
   */
  linkNotes(notes) {
    if (!this.linkNote) {
      this.linkNote = el('p.cs-note.link-note', { role: 'status', 'aria-live': 'polite' });
      const head = this.root.querySelector('header, .draw-head');
      if (head) head.after(this.linkNote);
      else this.root.prepend(this.linkNote);
    }
    this.linkNote.textContent = notes.join(' ');
    this.linkNote.hidden = notes.length === 0;
  }

  /** Keyboard: space = play/pause, ←/→ = step. Returns true when the key was used. */
  onKey(_e) { return false; }
}

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
