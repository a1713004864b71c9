// Scene "Draw a digit": being built (see issue 5).
import { Scene, el } from './base.js';

export class DrawScene extends Scene {
  static id = 'draw';

  constructor(root, ctx) {
    super(root, ctx);
    root.append(el('h2', { text: 'Draw a digit' }));
  }
}
