// State shared across scenes: the wasm API, the shipped models (loaded once, on demand) and
// the digit last drawn on the pad, which other scenes offer as their input.

export class Shared extends EventTarget {
  constructor(api) {
    super();
    this.api = api;
    this.models = new Map();
    /** Models that replace the shipped ones (trained on the Train scene, or a file): arch → { model, source }. */
    this.custom = new Map();
    /** The last drawn digit, preprocessed: Float32Array(784) in 0..1, or null. */
    this.digit = null;
    /** The strokes of that digit (pad coordinates), when it was drawn on the pad; `version` counts changes. */
    this.strokes = null;
    this.version = 0;
    this.reducedMotion = matchMedia('(prefers-reduced-motion: reduce)').matches;
  }

  /** Loads `data/models/<name>.safetensors` once and returns the wasm `Model`. */
  model(name) {
    if (!this.models.has(name)) {
      const p = fetch(`data/models/${name}.safetensors`)
        .then((r) => {
          if (!r.ok) throw new Error(`could not load the ${name} model: HTTP ${r.status}`);
          return r.arrayBuffer();
        })
        .then((buf) => this.api.Model.load(new Uint8Array(buf)));
      this.models.set(name, p);
    }
    return this.models.get(name);
  }

  /**
   * Makes the scenes use `model` (a wasm Model) for its architecture until `resetModel`;
   * `source` says where it came from ("trained here", a file name). Fires "model".
   */
  useModel(model, source) {
    const arch = model.arch;
    // A design of Train's architecture editor: Draw runs it (the latest one).
    if (arch === 'custom') this.customModel = model;
    this.custom.set(arch, { model, source });
    this.models.set(arch, Promise.resolve(model));
    this.dispatchEvent(new CustomEvent('model', { detail: { arch, source } }));
  }

  /** Goes back to the shipped model of `arch`. */
  resetModel(arch) {
    if (!this.custom.has(arch)) return;
    this.custom.delete(arch);
    this.models.delete(arch);
    this.dispatchEvent(new CustomEvent('model', { detail: { arch, source: null } }));
  }

  /** Where the model of `arch` the scenes use comes from: null for the shipped one. */
  modelSource(arch) {
    return this.custom.get(arch)?.source ?? null;
  }

  /** Sets the shared digit (`pixels`: Float32Array(784) or null) and, optionally, its strokes. */
  setDigit(pixels, strokes = null) {
    this.digit = pixels;
    this.strokes = pixels ? strokes : null;
    this.version++;
    this.dispatchEvent(new CustomEvent('digit', { detail: pixels }));
  }
}
