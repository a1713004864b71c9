// convscope's JavaScript API: the wasm exports (./convscope.js, made by wasm-bindgen) with the
// classes Tensor, Model, Forward, Dataset and Trainer around their handles. `cargo xtask build` copies this file
// beside the glue as api.js.
//
// A handle lives in a private field (#id), so it cannot be forged (Object.create(Tensor.prototype)
// has none) and a freed object says so. Every other argument goes to wasm untouched: the exports
// take any JS value and check it there (crate/src/wasm/). No maths happens here.
import init, * as raw from './convscope.js';

export default init;
// The glue's functions that take no handle. The handle-level functions (tensorNew, modelFree,
// forwardTop, …) are not re-exported: they take plain numbers, which a caller could guess;
// here handles exist only inside the classes' private fields.
export {
  initSync, simdLevel, liveObjects, preprocess, prepareInput, specInfo, specRanges,
  traceCorrelate, traceCorrelateRanges, traceCorrelateSettle, traceCorrelatePatch,
  traceTranspose, traceTransposeAfter, traceTransposeRanges, traceTransposeSettle, traceCheckerboard,
  traceAdjoint, traceRoundTrip, tracePresetImage, tracePresetKernel,
  traceSchedules, traceOneByOne, traceParamCounts, traceRoundedSum, traceControls, pytorchCode,
  modelFileProblem, cosines, argmax, colourScale, threads,
} from './convscope.js';

// The thread pool's workers (the threaded build only), by slot: each runs pool-worker.js on the
// module and shared memory of this instance. Calls to setThreads run one after another.
const workers = [];
let resizing = Promise.resolve();
// Not a literal in `new Worker(new URL(…))`: bundlers (Vite) would then bundle the worker for
// every build, and only the threads build has the file (the npm package has no threads yet).
const POOL_WORKER = 'pool-worker.js';

/**
 * Sets how many threads run the kernels (the caller and `n - 1` workers) and resolves to the
 * number running. `n` is a whole number from 1 to 16; more than 1 only in the threaded build
 * (else an Error says the build has no threads). The workers are started or stopped here.
 */
export function setThreads(n) {
  const done = resizing.then(() => resize(n));
  resizing = done.catch(() => {});
  return done;
}

/** One worker's next message: `{ ready }`, `{ exit }` or `{ error }`. */
function message(w, slot) {
  return new Promise((resolve, reject) => {
    w.onmessage = ({ data }) => (data?.error
      ? reject(new Error(`convscope: thread-pool worker ${slot} failed: ${data.error}`))
      : resolve(data));
    w.onerror = (e) => reject(new Error(`convscope: thread-pool worker ${slot} could not start: ${e.message ?? e}`));
  });
}

const threadListeners = new Set();

/** Calls `listener(n)` after every change of the number of threads; returns what stops it. */
export function onThreads(listener) {
  threadListeners.add(listener);
  return () => threadListeners.delete(listener);
}

async function resize(n) {
  const before = raw.threads();
  const now = await resizeTo(n);
  if (now !== before) for (const f of threadListeners) f(now);
  return now;
}

async function resizeTo(n) {
  const want = raw.threadsCheck(n);
  const have = raw.threads();
  if (want > have) {
    const [module, memory] = raw.poolShared();
    const started = [];
    for (let i = have; i < want; i++) {
      const slot = raw.poolPrepare();
      const w = new Worker(new URL(POOL_WORKER, import.meta.url), { type: 'module', name: `convscope pool ${slot}` });
      workers[slot] = w;
      started.push(message(w, slot));
      w.postMessage({ module, memory, slot });
    }
    try {
      await Promise.all(started);
    } catch (e) {
      // Retire the slots just prepared (a worker that did start stops), and the workers.
      raw.threadsSet(have);
      for (const w of workers.splice(have - 1)) w.terminate();
      throw e;
    }
    raw.threadsSet(want);
  } else if (want < have) {
    const leaving = workers.splice(want - 1);
    const exits = leaving.map((w, i) => message(w, want - 1 + i).catch(() => {}));
    raw.threadsSet(want);
    await Promise.all(exits);
    for (const w of leaving) w.terminate();
  }
  return raw.threads();
}

const WRAP = Symbol('wrap');
const freeLater = new FinalizationRegistry((free) => { try { free(); } catch { /* already gone */ } });

// How a value reads in an error message; nothing of the value runs (a proxy's traps included).
function shown(v) {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'undefined': return 'undefined';
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'boolean': return String(v);
    case 'string': return `a string ${JSON.stringify(v.slice(0, 40))}${v.length > 40 ? '…' : ''}`;
    case 'object': try { return Array.isArray(v) ? 'an array' : 'an object'; } catch { return 'a revoked proxy'; }
    default: return `a ${typeof v}`;
  }
}

function invalid(name, value, reason) {
  return new Error(`invalid ${name} = ${value}: ${reason}`);
}

/**
 * A wasm object reached by a handle. The handle lives in this private field, which instances of
 * the classes below inherit and nothing else has (`Object.create(Tensor.prototype)` has none), so
 * a handle cannot be forged; with the class's kind it also cannot be passed off as another kind.
 */
class Owned {
  #id = 0;
  #kind = '';
  #free = null;

  constructor(kind, id, free) {
    this.#kind = kind;
    this.#id = id;
    this.#free = free;
    freeLater.register(this, () => free(id), this);
  }

  /** The handle of `v` if it is a live `kind`, or an Error naming argument `name`. */
  static id(v, name, kind) {
    if (typeof v !== 'object' || v === null || !(#id in v) || v.#kind !== kind) throw invalid(name, shown(v), `must be a ${kind}`);
    if (v.#id === 0) throw invalid(name, `a freed ${kind}`, 'was freed (free() was called on it)');
    return v.#id;
  }

  /** Frees `v`'s wasm memory now (else when it is collected); freeing twice does nothing. */
  static release(v, kind) {
    if (typeof v !== 'object' || v === null || !(#id in v) || v.#kind !== kind) throw invalid('this', shown(v), `must be a ${kind}`);
    if (v.#id === 0) return;
    v.#free(v.#id);
    freeLater.unregister(v);
    v.#id = 0;
  }
}

export class Tensor extends Owned {
  /** `new Tensor(data: Float32Array, shape: number[])`: copies `data` into wasm memory. */
  constructor(data, shape) {
    super('Tensor', data === WRAP ? shape : raw.tensorNew(data, shape), raw.tensorFree);
  }

  /** The handle of `v`, or an Error naming argument `name`. */
  static handle(v, name) { return Owned.id(v, name, 'Tensor'); }

  /** The shape, outermost dimension first. */
  get shape() { return Array.from(raw.tensorShape(Tensor.handle(this, 'this'))); }

  /** A copy of the data. */
  toArray() { return raw.tensorToArray(Tensor.handle(this, 'this')); }

  /** Frees the wasm memory now (it is freed when this object is collected otherwise). */
  free() { Owned.release(this, 'Tensor'); }
}

const T = (v, name) => Tensor.handle(v, name);
const optT = (v, name) => (v === undefined || v === null ? undefined : T(v, name));

/** `[M, K]·[K, N] → [M, N]`. */
export const matmul = (a, b) => new Tensor(WRAP, raw.matmul(T(a, 'a'), T(b, 'b')));
/** PyTorch's conv2d: `x [N, C_in, H, W]`, `w [C_out, C_in/groups, kH, kW]`, optional bias. */
export const conv2d = (x, w, bias, opts) =>
  new Tensor(WRAP, raw.conv2d(T(x, 'x'), T(w, 'w'), optT(bias, 'bias'), opts));
/** PyTorch's conv_transpose2d: `w [C_in, C_out/groups, kH, kW]`. */
export const convTranspose2d = (x, w, bias, opts) =>
  new Tensor(WRAP, raw.convTranspose2d(T(x, 'x'), T(w, 'w'), optT(bias, 'bias'), opts));
/** PyTorch's max_pool2d over `[N, C, H, W]` or `[C, H, W]`. */
export const maxPool2d = (x, opts) => new Tensor(WRAP, raw.maxPool2d(T(x, 'x'), opts));
/** `max(x, 0)`. */
export const relu = (x) => new Tensor(WRAP, raw.relu(T(x, 'x')));
/** Softmax along `axis` (default the last; negative counts from the end). */
export const softmax = (x, axis) => new Tensor(WRAP, raw.softmax(T(x, 'x'), axis));

export class Model extends Owned {
  constructor(token, id) {
    if (token !== WRAP) throw new Error('Model has no public constructor: use Model.load(bytes)');
    super('Model', id, raw.modelFree);
  }

  /** The handle of `v`, or an Error naming argument `name`. */
  static handle(v, name) { return Owned.id(v, name, 'Model'); }

  /** Loads a model file (`Uint8Array`): ONNX as `torch.onnx.export` writes it, or safetensors
   *  with the architecture in its metadata; throws an Error saying what does not fit. */
  static load(bytes) { return new Model(WRAP, raw.modelLoad(bytes)); }
  /** A model of a spec (`{ input: [C, H, W], layers: [...] }`) with He-uniform weights from
   *  `seed` (default 1); throws an Error naming the layer and the rule a design breaks. */
  static fromSpec(spec, seed) { return new Model(WRAP, raw.modelFromSpec(spec, seed)); }

  /** `"cnn"`, `"slp"` or `"mlp"` for a shipped architecture, else `"custom"`. */
  get arch() { return raw.modelArch(Model.handle(this, 'this')); }
  /** `[C, H, W]` of one input. */
  get inputShape() { return Array.from(raw.modelInputShape(Model.handle(this, 'this'))); }
  /** The architecture, every default written out (what `Model.fromSpec` takes). */
  spec() { return raw.modelSpec(Model.handle(this, 'this')); }
  /** The model as a safetensors file (PyTorch `state_dict` names, the spec in the metadata). */
  save() { return raw.modelSave(Model.handle(this, 'this')); }
  /** The model as an ONNX file (opset 17) that onnxruntime runs with the same outputs. */
  toOnnx() { return raw.modelToOnnx(Model.handle(this, 'this')); }
  /** Number of trainable parameters. */
  get numParams() { return raw.modelNumParams(Model.handle(this, 'this')); }
  /** `{ name, kind, shape, conv?, kernelSize?, pool?, torch? }[]`: the input, then every layer
   *  (`torch`: the layer's PyTorch constructor, `"nn.Conv2d(1, 8, kernel_size=5, padding=2)"`). */
  layers() { return raw.modelLayers(Model.handle(this, 'this')); }
  /** The model as PyTorch code, `{ lines, text }`: an `nn.Sequential`, one layer a line. */
  pytorchCode() { return raw.modelPytorchCode(Model.handle(this, 'this')); }
  /** `{ data, shape, bias }` of a parameterised layer (`conv1`, `fc1`, …). */
  weights(name) { return raw.modelWeights(Model.handle(this, 'this'), name); }
  /** Runs one input (`Float32Array` of C·H·W values, `inputShape`; the MNIST models: 784 in
   *  0..1): one wasm call. */
  forward(pixels) {
    const id = Model.handle(this, 'this');
    return new Forward(WRAP, this, id, raw.modelForward(id, pixels));
  }
  /** The gradient of class `target`'s `'logit'` (default), `'probability'` or `'loss'` with
   *  respect to the input: a Float32Array of the input's size (`opts` = `{ target, of? }`). */
  inputGradient(pixels, opts) { return raw.modelInputGradient(Model.handle(this, 'this'), pixels, opts); }
  /** Grad-CAM on activation `layer` for class `target`: `{ map, h, w, weights, channels, upsampled, inputH, inputW }`. */
  gradCam(pixels, opts) { return raw.modelGradCam(Model.handle(this, 'this'), pixels, opts); }
  /**
   * A conv layer's backward step to its input as what it is, a transposed convolution: for
   * class `target`'s logit, `{ dout, dx, dxModel, maxDiff, cell, byTranspose, byModel,
   * byStamps, stamps, stamp, … }` (`layer`: the conv's name; `cell`: `[c, y, x]` of dX to
   * explain, the largest by default).
   */
  adjointStep(pixels, opts) { return raw.modelAdjointStep(Model.handle(this, 'this'), pixels, opts); }
  /** FGSM (one step) or its projected iteration: `{ pixels, perturbation, probabilities, top }`
   *  (`opts` = `{ epsilon, label, steps?, target? }`; a target makes it targeted). */
  adversarial(pixels, opts) { return raw.modelAdversarial(Model.handle(this, 'this'), pixels, opts); }
  /** The input that maximises class `target`'s logit: `{ pixels }` (`opts` = `{ steps?, l2?, blur?, seed? }`);
   *  `start` (an earlier result's pixels) continues the ascent, so a long one runs in short parts. */
  classImage(target, opts, start) { return raw.modelClassImage(Model.handle(this, 'this'), target, opts, start); }
  /** Occlusion sensitivity: `{ map, h, w, base }`, class `target`'s probability minus its value
   *  with a `patch` square of `value` at each position (a correlation's windows). */
  occlusion(pixels, opts) { return raw.modelOcclusion(Model.handle(this, 'this'), pixels, opts); }
  /** The ten probabilities of one image (`Float32Array(784)`, 0..1) on the model's fastest
   *  path (fused layers, no activation kept): one wasm call. */
  predict(pixels) { return raw.modelPredict(Model.handle(this, 'this'), pixels); }
  free() { Owned.release(this, 'Model'); }
}

/** Every activation of one forward pass, valid until its model runs again. */
export class Forward {
  #model = null;
  #id = 0;
  #gen = 0;

  constructor(token, model, id, gen) {
    if (token !== WRAP) throw new Error('Forward has no public constructor: use model.forward(pixels)');
    this.#model = model;
    this.#id = id;
    this.#gen = gen;
  }

  static #of(v) {
    if (typeof v !== 'object' || v === null || !(#gen in v)) throw invalid('this', shown(v), 'must be a Forward');
    if (v.#model === null) throw invalid('this', 'a freed Forward', 'was freed (free() was called on it)');
    Model.handle(v.#model, 'model');
    return [v.#id, v.#gen];
  }

  /** Number of activations (the input plus one per layer). */
  numLayers() { return raw.forwardNumLayers(...Forward.#of(this)); }
  /** Name of activation `i`. */
  name(i) { return raw.forwardName(...Forward.#of(this), i); }
  /** Activation `i` (a copy). */
  activation(i) { return raw.forwardActivation(...Forward.#of(this), i); }
  /** Shape of activation `i` without the batch dimension. */
  shape(i) { return Array.from(raw.forwardShape(...Forward.#of(this), i)); }
  /** The class probabilities (a copy): the final softmax, or the softmax of the logits;
   *  empty when the output is not a vector (an autoencoder's image). */
  probabilities() { return raw.forwardProbabilities(...Forward.#of(this)); }
  /** The model's output, the last activation (a copy). */
  output() { return raw.forwardOutput(...Forward.#of(this)); }
  /**
   * What made cell (`channel`, `y`, `x`) of activation `layer` (1 = the first layer; cells
   * named in `layers()[layer].view`): the window, weights, products and sums, the rounded
   * terms that add up to the rounded sum, and the receptive field on every earlier activation.
   */
  explain(layer, channel, y, x) { return raw.forwardExplain(...Forward.#of(this), layer, channel, y, x); }
  /**
   * The most active cell of activation `layer` (0 = the input), over every channel or only
   * `channel`: { layer, channel, y, x, value }, named in `layers()[layer].view`.
   */
  peak(layer, channel) { return raw.forwardPeak(...Forward.#of(this), layer, channel); }
  /** The most probable class (the largest output when there are no probabilities). */
  top() { return raw.forwardTop(...Forward.#of(this)); }
  /** A forward holds no memory of its own (its model does); afterwards it is unusable. */
  free() { Forward.#of(this); this.#model = null; }
}

/** MNIST images and labels decoded in wasm: `Dataset.load(imagesIdx, labelsIdx)` (gzip or raw). */
export class Dataset extends Owned {
  constructor(token, id) {
    if (token !== WRAP) throw new Error('Dataset has no public constructor: use Dataset.load(images, labels)');
    super('Dataset', id, raw.datasetFree);
  }

  static handle(v, name) { return Owned.id(v, name, 'Dataset'); }

  /** Decodes an IDX image file and its label file (`Uint8Array`s). */
  static load(images, labels) { return new Dataset(WRAP, raw.datasetLoad(images, labels)); }
  /** Number of images. */
  get length() { return raw.datasetLen(Dataset.handle(this, 'this')); }
  /** Image `i`: `Float32Array(784)` in 0..1 (a copy). */
  image(i) { return raw.datasetImage(Dataset.handle(this, 'this'), i); }
  /** Label of image `i`. */
  label(i) { return raw.datasetLabel(Dataset.handle(this, 'this'), i); }
  free() { Owned.release(this, 'Dataset'); }
}

/**
 * A model being trained on convscope's kernels: `new Trainer(dataset, { model, optimizer, lr,
 * batch, augment, init, seed })`. `run(dataset, steps)` trains on one worker; data-parallel
 * workers call `gradients(dataset, shard, shards)` and then `apply([all shards' gradients])`.
 */
export class Trainer extends Owned {
  constructor(dataset, settings) {
    super('Trainer', raw.trainerNew(Dataset.handle(dataset, 'dataset'), settings), raw.trainerFree);
  }

  static handle(v, name) { return Owned.id(v, name, 'Trainer'); }

  /** Trains `steps` batches; returns the status. */
  run(dataset, steps) { return raw.trainerRun(Trainer.handle(this, 'this'), Dataset.handle(dataset, 'dataset'), steps); }
  /** `{ model, optimizer, batch, epoch, done, perEpoch, samples, steps, lr, batchLoss, … }`. */
  status() { return raw.trainerStatus(Trainer.handle(this, 'this')); }
  /** Draws the next batch and returns shard `shard` of `shards`'s gradients (a Float32Array). */
  gradients(dataset, shard, shards) {
    return raw.trainerGradients(Trainer.handle(this, 'this'), Dataset.handle(dataset, 'dataset'), shard, shards);
  }
  /** Applies the mean of every shard's gradients (in shard order); returns the status. */
  apply(grads) { return raw.trainerApply(Trainer.handle(this, 'this'), grads); }
  /** `{ loss, accuracy, count }` on the first `count` images of `dataset`. */
  evaluate(dataset, count) { return raw.trainerEvaluate(Trainer.handle(this, 'this'), Dataset.handle(dataset, 'dataset'), count); }
  /**
   * One training step slowed down, for image `index` of `dataset` (changes nothing); with
   * `at`, by the weights of kept moment `at` (see `history`).
   */
  explain(dataset, index, at) { return raw.trainerExplain(Trainer.handle(this, 'this'), Dataset.handle(dataset, 'dataset'), index, at); }
  /**
   * The image the model gets most wrong (highest loss) among the first `count` of `dataset`:
   * `{ index, loss, label, predicted, count, wrong }`.
   */
  hardest(dataset, count, at) { return raw.trainerHardest(Trainer.handle(this, 'this'), Dataset.handle(dataset, 'dataset'), count, at); }
  /**
   * How much the class templates look like the digits: `{ plain, centred, least, leastClass }`,
   * each class's cosine with its mean image in `dataset` (dense models only).
   */
  templateCosines(dataset) { return raw.trainerTemplateCosines(Trainer.handle(this, 'this'), Dataset.handle(dataset, 'dataset')); }
  /**
   * For every kept moment, the smallest centred cosine of a class template with its mean image
   * in `dataset`, and the first moment every template reaches `least`: `{ least, first }`.
   */
  templateHistory(dataset, least) { return raw.trainerTemplateHistory(Trainer.handle(this, 'this'), Dataset.handle(dataset, 'dataset'), least); }
  /** Throws what `new Trainer` would say of `settings` for a dataset of `length` images. */
  static check(settings, length) { raw.trainerCheck(settings, length); }
  /**
   * `{ data, shape, bias, scale }` of a parameterised layer (a copy), now or at kept moment
   * `at`; the first one with weights also has `grad` and `gradScale`: its gradient of the batch
   * before.
   */
  weights(name, at) { return raw.trainerWeights(Trainer.handle(this, 'this'), name, at); }
  /**
   * The run's kept moments (made with `{ history: true }`): `{ moments: [{ steps, samples,
   * epoch, done, batchLoss, batchAccuracy }], every, cap, bytesEach, off }`, evenly spaced,
   * thinned as the run grows.
   */
  history() { return raw.trainerHistory(Trainer.handle(this, 'this')); }
  /** Goes back to kept moment `at` and trains on from there; returns the status. */
  rewind(at) { return raw.trainerRewind(Trainer.handle(this, 'this'), at); }
  /** The model as a safetensors file (`Uint8Array`) that `Model.load` and PyTorch read. */
  save() { return raw.trainerSave(Trainer.handle(this, 'this')); }
  free() { Owned.release(this, 'Trainer'); }
}
