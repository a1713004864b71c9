// Scene "Sliding correlation": being built (see issue 5).
import { Scene, el } from './base.js';

export class CorrelateScene extends Scene {
  static id = 'correlate';

  constructor(root, ctx) {
    super(root, ctx);
    root.append(el('h2', { text: 'Sliding correlation' }));
  }
}
