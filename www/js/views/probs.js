// Ten probability bars, one per class. `#probs` keeps exactly ten children, each with
// `data-digit` and `data-p` (the probability the wasm softmax returned, or "" when nothing is drawn).

import { el } from '../dom.js';

export class ProbBars {
  constructor(container) {
    this.list = el('ol#probs.probs', { 'aria-label': 'Probability of each digit' });
    this.rows = [];
    for (let d = 0; d < 10; d++) {
      const fill = el('span.fill');
      const val = el('span.val', { text: '' });
      const row = el('li.prob', { 'data-digit': String(d), 'data-p': '' },
        el('span.digit', { text: String(d), 'aria-hidden': 'true' }),
        el('span.track', {}, fill), val);
      this.rows.push({ row, fill, val });
      this.list.append(row);
    }
    container.append(this.list);
  }

  /** `p`: ten probabilities (any array-like) or null; `top`: the winning class. */
  update(p, top) {
    this.rows.forEach(({ row, fill, val }, d) => {
      const v = p ? p[d] : 0;
      row.dataset.p = p ? String(v) : '';
      row.classList.toggle('top', p !== null && d === top);
      fill.style.width = `${(100 * v).toFixed(2)}%`;
      val.textContent = p ? `${(100 * v).toFixed(v >= 0.995 || v < 0.001 ? 0 : 1)}%` : '';
      row.setAttribute('aria-label', p ? `${d}: ${(100 * v).toFixed(1)} percent` : `${d}: nothing drawn`);
    });
  }
}
