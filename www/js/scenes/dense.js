// Scene "Dense = correlation at shift 0": being built (see issue 5).
import { Scene, el } from './base.js';

export class DenseScene extends Scene {
  static id = 'dense';

  constructor(root, ctx) {
    super(root, ctx);
    root.append(el('h2', { text: 'Dense = correlation at shift 0' }));
  }
}
