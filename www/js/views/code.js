// "PyTorch": the line of PyTorch that computes what a scene shows, from the wasm API
// (`pytorchCode({ op, … })`, `Model.layers()[i].torch`, `model.pytorchCode()`); this view only
// shows the text it is given, with a Copy button.
//
// Stable hooks: the block is `#<scene>-code.cs-code` (always); the `<code>` element of the
// visible scene's first block carries `id="code"` (the router calls `activateCode()` when the
// scene changes, and a block that fills in calls it too), so `#code` always finds the visible
// scene's line. `.cs-code-copy` is the Copy button; after a copy the block has
// `data-copied="1"`.
import { el } from '../dom.js';

export class CodeView {
  /**
   * @param host  where the block is appended
   * @param opts  { id: the scene's name (the block is `#<id>-code`), label (default "PyTorch"),
   *              title: what the line computes (the block's accessible name), before: the
   *              child of `host` it goes before }
   */
  constructor(host, { id, label = 'PyTorch', title = 'The same in PyTorch', before = null } = {}) {
    this.code = el('code.cs-code-text', { 'data-lang': 'python' });
    // Long lines wrap (never a scrolling region: no extra tab stop, nothing hidden at 375 px).
    this.pre = el('pre.cs-code-pre', {}, this.code);
    this.copyBtn = el('button.cs-btn.cs-code-copy', { type: 'button', 'aria-label': `Copy the ${label} code`, onclick: () => this.copy() }, 'Copy');
    this.status = el('span.cs-code-status', { role: 'status' });
    this.node = el('div.cs-code', { id: `${id}-code`, role: 'group', 'aria-label': title },
      el('div.cs-code-head', {}, el('span.cs-code-label', { text: label }), this.status, this.copyBtn),
      this.pre);
    host.insertBefore(this.node, before);
    this.text = '';
  }

  /** Shows `code`: `{ lines, text }` from the wasm API, a string, or null (hidden). */
  set(code) {
    const text = code == null ? '' : typeof code === 'string' ? code : code.text;
    this.node.hidden = !text;
    if (text === this.text) return;
    this.text = text;
    this.code.textContent = text;
    this.status.textContent = '';
    delete this.node.dataset.copied;
    activateCode();
  }


  /** Puts the text on the clipboard; where that is refused, selects it for Ctrl+C. */
  async copy() {
    try {
      await navigator.clipboard.writeText(this.text);
      this.node.dataset.copied = '1';
      this.status.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(this.code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      this.status.textContent = 'Selected: press Ctrl+C';
    }
  }
}

/**
 * Gives `id="code"` to the line of the visible scene (its first code block that is not
 * hidden), and takes it from every other: only one element may carry an id.
 */
export function activateCode() {
  const scene = document.querySelector('.scene:not([hidden])');
  const mine = scene && [...scene.querySelectorAll('.cs-code')].find((b) => !b.hidden)?.querySelector('code');
  for (const c of document.querySelectorAll('code#code')) if (c !== mine) c.removeAttribute('id');
  if (mine) mine.id = 'code';
}
