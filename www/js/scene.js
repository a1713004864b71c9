// What every scene shares: its section and the context from the router (the DOM helper `el`
// comes from dom.js; re-exported here for the scenes).
import { el } from './dom.js';

export { el };

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
