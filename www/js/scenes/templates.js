// Scene "Templates": being built (see issue 5).
import { Scene, el } from './base.js';

export class TemplatesScene extends Scene {
  static id = 'templates';

  constructor(root, ctx) {
    super(root, ctx);
    root.append(el('h2', { text: 'Templates' }));
  }
}
