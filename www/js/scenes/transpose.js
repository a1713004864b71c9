// Scene "Transposed convolution": being built (see issue 5).
import { Scene, el } from './base.js';

export class TransposeScene extends Scene {
  static id = 'transpose';

  constructor(root, ctx) {
    super(root, ctx);
    root.append(el('h2', { text: 'Transposed convolution' }));
  }
}
