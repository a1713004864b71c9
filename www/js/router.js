// One scene visible at a time. The URL hash is `#<scene>` or `#<scene>?<settings>`, where the
// settings are URLSearchParams from the scene's getState(); a copied link restores them.
//
// A scene is a class: constructor(section, ctx), getState() → {key: string}, setState(params),
// show(), hide(), onKey(event) → true when handled. ctx = { api, flavour, shared, changed },
// where changed() tells the router the scene's state moved so the hash is rewritten.
import { activateCode } from './views/code.js';

export class Router {
  constructor(sceneClasses, ctx) {
    this.classes = new Map(sceneClasses.map((c) => [c.id, c]));
    this.ctx = ctx;
    this.scenes = new Map();
    this.active = null;
    this.writing = false;
  }

  async start() {
    window.addEventListener('hashchange', () => { if (!this.writing) this.route(); });
    document.addEventListener('keydown', (e) => this.key(e));
    await this.route();
  }

  parse() {
    // A hash that is not valid percent-encoding (`%%%`) is read as it is: its scene then names
    // what it cannot use, instead of the page failing to start.
    let raw = location.hash.slice(1);
    try { raw = decodeURIComponent(raw); } catch { /* kept as typed */ }
    const [id, query = ''] = raw.split('?');
    const known = this.classes.has(id);
    return { id: known ? id : 'draw', unknown: known || id === '' ? null : id, params: Object.fromEntries(new URLSearchParams(query)) };
  }

  scene(id) {
    if (!this.scenes.has(id)) {
      const section = document.getElementById(`scene-${id}`);
      const Cls = this.classes.get(id);
      const ctx = { ...this.ctx, changed: () => this.changed(id) };
      this.scenes.set(id, new Cls(section, ctx));
    }
    return this.scenes.get(id);
  }

  async route() {
    const { id, unknown, params } = this.parse();
    const scene = this.scene(id);
    const switched = this.active !== scene;
    if (this.active && switched) this.active.hide();
    this.unknownNote(unknown);
    for (const a of document.querySelectorAll('nav a')) {
      a.setAttribute('aria-current', a.getAttribute('href') === `#${id}` ? 'page' : 'false');
    }
    for (const s of document.querySelectorAll('.scene')) s.hidden = s.dataset.scene !== id;
    activateCode();
    this.active = scene;
    if (Object.keys(params).length) await scene.setState(params);
    await scene.show();
    // A new scene opens at its top (its heading and controls), not at the old scroll position.
    if (switched) window.scrollTo({ top: 0, left: 0, behavior: 'instant' });
  }

  /** A hash naming no scene opens Draw with a note that says so (until the next navigation). */
  unknownNote(name) {
    let note = document.getElementById('route-note');
    if (!note) {
      note = document.createElement('p');
      note.id = 'route-note';
      note.className = 'cs-note route-note';
      note.setAttribute('role', 'status');
      document.getElementById('scenes').prepend(note);
    }
    const names = [...this.classes.keys()].map((k) => `#${k}`).join(', ');
    note.textContent = name === null ? '' : `There is no scene “${name}”, so Draw opened. The scenes are ${names}.`;
    note.hidden = name === null;
  }

  /** Rewrites the hash from the active scene's state without adding history entries. */
  changed(id) {
    if (!this.active || this.active !== this.scenes.get(id)) return;
    const q = new URLSearchParams(this.active.getState()).toString();
    const hash = `#${id}${q ? `?${q}` : ''}`;
    if (location.hash !== hash) {
      this.writing = true;
      history.replaceState(null, '', hash);
      this.writing = false;
    }
  }

  key(e) {
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) {
      if (!(t instanceof HTMLInputElement && t.type === 'range')) return;
    }
    if (e.target instanceof HTMLButtonElement && e.key === ' ') return;
    if (this.active?.onKey?.(e)) e.preventDefault();
  }
}
