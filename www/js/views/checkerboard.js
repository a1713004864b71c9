// The checkerboard, completed (Distill, "Deconvolution and Checkerboard Artifacts"): two
// stacked stride-n transposed convolutions, where the uneven overlap of the stamps compounds,
// beside nearest-neighbour upsampling followed by a stride-1 conv, the artifact-free
// alternative. Each stage shows its output and its stamps per cell (paths from the input
// through every stage so far), each with a legend; cells the border reaches are hatched.
// Every number (outputs, counts, the interior's levels) comes from `traceCheckerboard` (wasm).
import { el } from '../dom.js';
import { Grid } from '../stepper/grid.js';
import { Legend } from './colour.js';
import { CodeView } from './code.js';

/**
 * Every grid here is drawn on a canvas (a div per cell, thousands of them at the largest
 * setting, froze the page); their cells never carry text, so nothing is lost.
 */
const CANVAS_AT = 0;
/** "1 stamp", "2 stamps". */
const stamps = (n) => `${n} stamp${n === 1 ? '' : 's'}`;

const PATHS = [
  ['transposed', 'Two transposed convs (stride n)', (s) => `ConvTranspose2d, stride ${s.join('×')}`],
  ['resize', 'Nearest-neighbour upsampling, then a conv', (s) => `upsample ×${s.join('×')} (nearest), then Conv2d stride 1`],
];

export class CheckerboardView {
  /** `container`: where the section goes; `px`: the width each stage's grids get. */
  constructor(container, { px = 150 } = {}) {
    this.px = px;
    this.node = el('div#cb-paths.cb-paths');
    container.append(this.node);
    this.columns = PATHS.map(([kind, title]) => {
      const col = el('section.cs-panel.cb-path', { 'aria-label': title, 'data-path': kind }, el('h3', { text: title }));
      this.node.append(col);
      const stages = [1, 2].map((n) => {
        const box = el('div.cb-stage', { 'data-stage': String(n) });
        const head = el('p.cs-muted.cb-head');
        const row = el('div.cs-stage.cb-row');
        box.append(head, row);
        col.append(box);
        const out = this.figure(row, `${kind}-${n}-out`, `stage ${n}: output`, true);
        const paths = this.figure(row, `${kind}-${n}-paths`, `stage ${n}: stamps per cell`, false);
        const levels = el('p.cs-sum.cb-levels', { id: `cb-${kind}-${n}-levels` });
        box.append(levels);
        return { head, out, paths, levels };
      });
      return { kind, col, stages };
    });
    this.code = new CodeView(container, { id: 'checkerboard', title: 'Both paths in PyTorch' });
  }

  figure(row, id, caption, signed) {
    const wrap = el('div.cb-fig');
    row.append(wrap);
    const grid = new Grid(wrap, { id: `cb-${id}`, label: caption, caption, signed, maxWidth: this.px, maxCell: 16, flat: true, legend: false, canvasAt: CANVAS_AT });
    const legend = new Legend(grid.figure, { signed, label: caption });
    return { grid, legend };
  }

  /** `c`: the record of `traceCheckerboard`; `code`: its `pytorchCode({ op: 'checkerboard', … })`. */
  update(c, code) {
    this.code.set(code);
    this.node.dataset.even = c.even.join(',');
    for (const col of this.columns) {
      const stages = c[col.kind];
      col.stages.forEach((v, i) => {
        const st = stages[i];
        const describe = PATHS.find(([k]) => k === col.kind)[2];
        v.head.textContent = `Stage ${i + 1}: ${st.inH}×${st.inW} → ${describe(c.stride)}, ${c.kh}×${c.kw} kernel → ${st.h}×${st.w}`;
        for (const f of [v.out, v.paths]) {
          f.grid.resize(st.h, st.w);
          f.grid.tag('cb-border', (p) => st.interior[p] === 0);
        }
        v.out.grid.set(st.output, { scale: st.outputMax, text: false, signed: true });
        v.out.legend.update(st.outputMax);
        v.paths.grid.counts(st.paths, st.pathsMax);
        v.paths.grid.node.dataset.max = String(st.pathsMax);
        v.paths.legend.update(st.pathsMax);
        const lv = st.interiorLevels;
        v.levels.dataset.levels = lv.join(',');
        v.levels.textContent = lv.length === 0
          ? `Every cell is within reach of the border (hatched); ${st.pathsMin === st.pathsMax ? stamps(st.pathsMin) : `${st.pathsMin} to ${stamps(st.pathsMax)}`} per cell.`
          : lv.length === 1
            ? `Inside the border: ${stamps(lv[0])} on every cell: even.`
            : `Inside the border: ${lv.slice(0, -1).join(', ')} or ${lv[lv.length - 1]} stamps per cell: uneven, a checkerboard.`;
      });
    }
  }
}
