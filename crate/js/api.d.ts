// Types of convscope's JavaScript API (api.js). Every function takes any value in any
// argument and throws an Error naming the argument when it is wrong:
// "invalid stride = -1: must be a whole number ≥ 0".
//
// Each option type and record is declared once here and referenced wherever it recurs; tsc
// checks this file and a typed use of every export (tests/types/, run by tests/types.test.mjs).

/** Initialises the wasm (`{ module_or_path }`: a URL, Response, bytes or WebAssembly.Module). */
export default function init(opts?: { module_or_path: unknown }): Promise<unknown>;
/** The same, synchronously (`{ module }`: bytes or a WebAssembly.Module). */
export function initSync(opts: { module: unknown }): unknown;

/** A size along (height, width): one number for both, or `[h, w]`. Whole numbers ≥ 0. */
export type Size2d = number | [number, number];
/** Zero padding: one number for every side, `[h, w]` (top = bottom = h, left = right = w) or `[top, left, bottom, right]`. */
export type Padding2d = number | [number, number] | [number, number, number, number];
/** Options of `conv2d` (PyTorch's Conv2d): defaults stride 1, padding 0, dilation 1, groups 1. */
export interface Conv2dOptions { stride?: Size2d; padding?: Padding2d; dilation?: Size2d; groups?: number }
/** Options of `convTranspose2d` (PyTorch's ConvTranspose2d); `outputPadding`: extra rows/columns at the bottom/right, below max(stride, dilation). */
export interface ConvTranspose2dOptions extends Conv2dOptions { outputPadding?: Size2d }
/** Options of `maxPool2d` (PyTorch's MaxPool2d): `stride` defaults to `kernelSize` (also when null); `padding` is −∞, each side at most half the effective kernel `dilation·(kernelSize−1)+1`. */
export interface MaxPool2dOptions { kernelSize: Size2d; stride?: Size2d | null; padding?: Padding2d; dilation?: Size2d; ceilMode?: boolean }
/** A size along (height, width) as `[h, w]`, and the same for a `[min, max]` range of each. */
export type Pair = [number, number];

export class Tensor {
  constructor(data: Float32Array, shape: number[]);
  readonly shape: number[];
  toArray(): Float32Array;
  free(): void;
}
export function matmul(a: Tensor, b: Tensor): Tensor;
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor | null, opts?: Conv2dOptions | null): Tensor;
export function convTranspose2d(x: Tensor, w: Tensor, bias?: Tensor | null, opts?: ConvTranspose2dOptions | null): Tensor;
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor;
export function relu(x: Tensor): Tensor;
export function softmax(x: Tensor, axis?: number): Tensor;
export function simdLevel(): 'relaxed' | 'simd128' | 'none';
/** How many threads run the kernels: 1, or what `setThreads` set in the threaded build. */
export function threads(): number;
/**
 * Sets how many threads run the kernels (a whole number from 1 to 16; more than 1 only in the
 * threaded build, else an Error) and resolves to the number running. Starts or stops the
 * thread pool's workers.
 */
export function setThreads(n: number): Promise<number>;
/** Calls `listener(n)` after every change of the number of threads; returns a function that stops the calls. */
export function onThreads(listener: (threads: number) => void): () => void;
/** The cosine of `x` with each row of `rows` (whole rows of `x`'s length), in f64. */
export function cosines(x: Float32Array, rows: Float32Array): Float32Array;
/** The index of the largest value (the first on a tie; NaN never wins). */
export function argmax(values: Float32Array): number;
/** A heat map's colour scale: the `quantile` (default 0.99; 1: the largest) of |values| (the largest when that is 0; 1 for all zeros). */
export function colourScale(values: Float32Array, quantile?: number): number;
export function liveObjects(): { tensors: number; models: number; datasets: number; trainers: number; memoryBytes: number };

/** The geometry the kernels run a conv layer with. */
export interface ConvGeometry { stride: Pair; padding: [number, number, number, number]; dilation: Pair; groups: number; outputPadding: Pair }
export interface PoolGeometry { kernel: Pair; stride: Pair; padding: [number, number, number, number]; dilation: Pair; ceilMode: boolean }
/** `view`: the [C, H, W] the page draws the activation as (a flatten as the image it flattens, a dense vector as a near-square grid). */
/** `torch`: the layer's PyTorch constructor (`"nn.Conv2d(1, 8, kernel_size=5, padding=2)"`, `"nn.MaxPool2d(2)"`); absent for the input. */
/** `params`: the layer's trained parameters; `spec`: the layer as a `ModelSpec` describes it (absent for the input). */
export interface LayerInfo { name: string; kind: LayerKind | 'input'; shape: number[]; view: [number, number, number]; conv?: ConvGeometry; kernelSize?: [number, number]; pool?: PoolGeometry; torch?: string; params: number; spec?: LayerSpec }
export type LayerKind = LayerSpec['kind'];
/** One layer of a `ModelSpec`. Sizes are one number or [h, w]; padding one number, [h, w] or [top, left, bottom, right]; everything else has PyTorch's default. `name` is the layer's `state_dict` prefix (`conv1` → `conv1.weight`). */
export type LayerSpec =
  | ({ kind: 'conv2d'; name?: string; outChannels: number; kernelSize: Size2d; bias?: boolean } & Conv2dOptions)
  | ({ kind: 'convtranspose2d'; name?: string; outChannels: number; kernelSize: Size2d; bias?: boolean } & ConvTranspose2dOptions)
  | ({ kind: 'maxpool2d' } & MaxPool2dOptions)
  | ({ kind: 'avgpool2d'; countIncludePad?: boolean } & Omit<MaxPool2dOptions, 'dilation'>)
  | { kind: 'globalavgpool' } | { kind: 'relu' } | { kind: 'leakyrelu'; negativeSlope?: number } | { kind: 'sigmoid' } | { kind: 'tanh' } | { kind: 'flatten' }
  | { kind: 'linear'; name?: string; outFeatures: number; bias?: boolean }
  | { kind: 'batchnorm2d'; name?: string; eps?: number }
  | { kind: 'softmax' } | { kind: 'logsoftmax' }
  /** Adds activation `from` (0 = the input, k = the output of layer k − 1) to its input; equal shapes. */
  | { kind: 'add'; from: number };
/** A model's architecture: input [C, H, W] (C 1 or 3, H and W 8..64) and its layers. */
export interface ModelSpec { input: [number, number, number]; layers: LayerSpec[] }
/** What a design builds, without building it: the layers up to the first that does not fit, and why (`layer` null: the input). Throws when the spec does not parse. */
export function specInfo(spec: ModelSpec | string): { input: [number, number, number]; layers: { name: string; kind: LayerKind; shape: number[]; params: number }[]; params: number; error: { layer: number | null; message: string } | null };
/** The ranges an architecture editor offers for each kind's options. */
export function specRanges(): { kinds: LayerKind[]; input: { channels: number[]; side: [number, number] }; maxLayers: number; options: Record<string, Record<string, [number, number]>> };
/** Cells [y0, y1] × [x0, x1] (inclusive) of these channels of activation `layer` (0 = the input). */
export interface FieldRect { layer: number; name: string; channels: number[]; y0: number; x0: number; y1: number; x1: number }
/** What made one activation (see `Forward.explain`). */
export interface Explanation {
  layer: number; name: string; kind: string; from: string; channel: number; y: number; x: number;
  /** The forward's activation, and the same number recomputed from the terms below. */
  value: number; sum: number;
  window: [number, number]; origin: [number, number]; channels: number[];
  inputs: Float32Array; padded: Uint8Array; weights: Float32Array; products: Float32Array; partials: Float32Array;
  index: number; bias?: number; pick?: number; top: number[];
  /** The terms (partials and bias) and the sum rounded to 3 decimals so that they add up; the products rounded to add up to each shown partial. */
  shown: { terms: number[]; total: number }; shownProducts: number[];
  /** The receptive field on every earlier activation, nearest first, the input last. */
  field: FieldRect[];
}

export class Model {
  /** ONNX (as `torch.onnx.export` writes it) or safetensors with the spec in its metadata. */
  static load(bytes: Uint8Array): Model;
  /** He-uniform weights from `seed` (default 1). */
  static fromSpec(spec: ModelSpec | string, seed?: number | null): Model;
  readonly arch: 'cnn' | 'slp' | 'mlp' | 'custom';
  readonly inputShape: [number, number, number];
  readonly numParams: number;
  spec(): ModelSpec;
  /** safetensors bytes: PyTorch `state_dict` names, the spec in the metadata. */
  save(): Uint8Array;
  /** ONNX bytes (opset 17) onnxruntime runs with the same outputs. */
  toOnnx(): Uint8Array;
  layers(): LayerInfo[];
  /** The model as an `nn.Sequential`, one layer a line (`# conv1` after each: the page's names). */
  pytorchCode(): PytorchCode;
  /** A parameterised layer's weights (`conv1`, `fc1`, …), copies. */
  weights(name: string): LayerWeights;
  /** One input of `inputShape` (C·H·W values). */
  forward(pixels: Float32Array): Forward;
  /** ∂(class `target`'s logit | probability | cross-entropy loss)/∂input, the input's size. */
  inputGradient(pixels: Float32Array, opts: { target: number; of?: 'logit' | 'probability' | 'loss'; timesInput?: boolean }): Float32Array;
  /** Grad-CAM on activation `layer` (a [C, H, W] one): ReLU(Σ_c mean(∂logit/∂A_c)·A_c), and that map resampled to the input. */
  gradCam(pixels: Float32Array, opts: { layer: number; target: number }): { map: Float32Array; h: number; w: number; weights: Float32Array; channels: number; upsampled: Float32Array; inputH: number; inputW: number };
  /** A conv layer's backward step to its input, dX = conv_transpose2d(dout, W), checked against the layer's backward pass, one cell as the sum of its stamps. */
  adjointStep(pixels: Float32Array, opts: { layer: string; target: number; cell?: [number, number, number] }): AdjointStep;
  /** FGSM (`steps` 1, the default): clip(x + ε·sign(∂loss/∂x)); more steps: projected to within ε; a `target` makes it targeted. */
  adversarial(pixels: Float32Array, opts: { epsilon: number; label: number; steps?: number; target?: number | null }): { pixels: Float32Array; perturbation: Float32Array; probabilities: Float32Array; top: number };
  /** Gradient ascent on class `target`'s logit from a blank (or `seed`ed) start, with L2 and blur: `{ pixels }`. */
  classImage(target: number, opts?: { steps?: number; l2?: number; blur?: number; seed?: number } | null, start?: Float32Array | null): { pixels: Float32Array };
  /** The drop in class `target`'s probability as a `patch` square (default 7) of `value` (default 0.5) slides with `stride` (default the patch). */
  occlusion(pixels: Float32Array, opts: { target: number; patch?: number; stride?: number; value?: number }): { map: Float32Array; h: number; w: number; base: number };
  /** The class probabilities on the fastest path (fused layers, no activation kept). */
  predict(pixels: Float32Array): Float32Array;
  free(): void;
}
export class Forward {
  numLayers(): number;
  name(i: number): string;
  /** A copy of activation `i`. */
  activation(i: number): Float32Array;
  shape(i: number): number[];
  /** Empty when the output is not a vector. */
  probabilities(): Float32Array;
  /** The last activation. */
  output(): Float32Array;
  top(): number;
  /** What made cell (channel, y, x) of activation `layer` (≥ 1), in its `view`. */
  explain(layer: number, channel: number, y: number, x: number): Explanation;
  /** The most active cell of activation `layer` (0 = the input), over every channel or only `channel`, in its `view`. */
  peak(layer: number, channel?: number | null): Peak;
  free(): void;
}
/** The largest value of one activation and where it is (see `Forward.peak`). */
export interface Peak { layer: number; channel: number; y: number; x: number; value: number }
export function preprocess(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Float32Array | null;
/** A model's input from a canvas: a drawing preprocessed as MNIST was and resampled to `shape` ([C, H, W], grey in every channel), or (`image`) a picture resampled as it is; null for a blank drawing. */
export function prepareInput(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, shape: [number, number, number], image?: boolean | null): Float32Array | null;

/** The output-size formula along one axis, with its numbers. */
export interface AxisTerms { input: number; padBegin: number; padEnd: number; dilation: number; kernel: number; stride: number; outputPadding: number; span: number; output: number }
export interface OutputTerms { rows: AxisTerms; cols: AxisTerms }
/** `normalized`: normalised cross-correlation (traceCorrelate only): each output Σ(x − x̄)(k − k̄) / (‖x − x̄‖·‖k − k̄‖) over its window (padded cells count as zeros), 0 when the window or the kernel is flat. */
export interface CorrelateSetting { size: Size2d; kernelSize: Size2d; stride?: Size2d; padding?: Padding2d; dilation?: Size2d; flip?: boolean; normalized?: boolean; cap?: number }
/** What explains each output of a normalised trace (per step unless said). */
export interface NccTrace {
  /** k̄, ‖k − k̄‖ and whether every kernel value is equal (then every output is 0). */
  kernelMean: number; kernelNorm: number; kernelFlat: boolean;
  /** k − k̄ per tap. */
  centredKernel: Float32Array;
  /** x̄, ‖x − x̄‖, Σ(x − x̄)(k − k̄) (the step's products added), ‖x − x̄‖·‖k − k̄‖; 1 where the window is flat. */
  windowMean: Float32Array; windowNorm: Float32Array; numerator: Float32Array; denominator: Float32Array; flat: Uint8Array;
  /** The steps whose output is at least `matchAt`: the kernel's pattern again, up to brightness and contrast. */
  matches: Uint32Array; matchAt: number;
}
export interface TransposeSetting { size: Size2d; kernelSize: Size2d; stride?: Size2d; padding?: Padding2d; dilation?: Size2d; outputPadding?: Size2d; cap?: number; seed?: number }
export interface Ranges { stride: [number, number][]; padding: [number, number][]; dilation: [number, number][]; outputPadding?: [number, number][] }
export interface CorrelateTrace {
  h: number; w: number; kh: number; kw: number; geometry: ConvGeometry; flipped: boolean; kernel: Float32Array; terms: OutputTerms;
  outH: number; outW: number; steps: number; taps: number; paddedH: number; paddedW: number; padded: Float32Array; paddedSource: Int32Array;
  window: Uint32Array; source: Int32Array; cols: Float32Array; products: Float32Array; output: Float32Array;
  /** The steps whose windows read padded cell p: `readers[readerStart[p] .. readerStart[p + 1]]`, ascending. */
  readerStart: Uint32Array; readers: Uint32Array;
  /** [row, col] pairs: per step its output cell, per padded cell its place, per kernel tap its place. */
  stepCell: Uint32Array; paddedCell: Uint32Array; tapCell: Uint32Array;
  /** Colour scales' ends (largest |value|), one for every step. */
  outputMax: number; productsMax: number; productsSigned: boolean; kernelMax: number;
  /** Steps a guided run pauses at ("show me"), each −1 when there is none. */
  moments: { firstPadded: number; firstInside: number; largest: number; smallest: number };
  /** With `normalized`: the products are (x − x̄)(k − k̄), the outputs the NCC, and this explains each step. */
  ncc?: NccTrace | null;
}
export interface TransposeTrace {
  h: number; w: number; kh: number; kw: number; geometry: ConvGeometry; kernel: Float32Array; terms: OutputTerms;
  fullH: number; fullW: number; outH: number; outW: number; steps: number; taps: number;
  stampFull: Uint32Array; stampOut: Int32Array; stampValue: Float32Array; full: Float32Array; output: Float32Array;
  coverageFull: Uint32Array; coverage: Uint32Array; canvasOutput: Int32Array;
  /** Per output cell: the step at which its last stamp lands (complete from then on). */
  completeAt: Uint32Array;
  /** One colour scale for every step: largest |canvas value|, any negative value, most stamps on a cell. */
  valueMax: number; signed: boolean; coverageMax: number;
  /** Per stamp: taps inside the output, the first output cell it reaches (−1: none), its input cell and canvas corner ([row, col] pairs). */
  stampInside: Uint32Array; stampFocus: Int32Array; stampCell: Uint32Array; stampCorner: Uint32Array;
  /** Per output cell: its [row, col]. */
  outputCell: Uint32Array;
  equivalent: { insertedH: number; insertedW: number; padBefore: [number, number]; padAfter: [number, number]; kind: Uint8Array; source: Int32Array; position: Int32Array; corr: CorrelateTrace };
}
export function traceCorrelate(input: Float32Array, kernel: Float32Array, setting: CorrelateSetting): CorrelateTrace;
/** What a scene's own controls offer ([min, max] each; `cap`: the geometry steppers' largest value). */
export interface Controls { size: Pair; kernelSize: Pair; cap: number }
export function traceControls(): {
  correlate: Controls; transpose: Controls;
  checkerboard: CheckerboardLimits;
  dense: { size: [number, number]; channels: [number, number]; hidden: [number, number]; kernelSize: [number, number] };
  /** The trainer's ranges: a learning rate above lr[0] and at most lr[1]; a batch from batch[0] to batch[1]. */
  train: { lr: [number, number]; batch: [number, number] };
};
export function traceCorrelateRanges(setting: CorrelateSetting): Ranges;
/** The `kernelSize` box of an image whose top-left cell is (top, left): the values that become the kernel, and each one's index in the image. */
export function traceCorrelatePatch(input: Float32Array, opts: { size: Size2d; top: number; left: number; kernelSize: Size2d }): { size: [number, number]; at: [number, number]; values: Float32Array; cells: Uint32Array };
export function traceCorrelateSettle(setting: CorrelateSetting): ConvGeometry;
export function traceTranspose(input: Float32Array, kernel: Float32Array, setting: TransposeSetting): TransposeTrace;
export function traceTransposeAfter(input: Float32Array, kernel: Float32Array, setting: TransposeSetting, steps: number): { canvas: Float32Array; coverage: Uint32Array };
export function traceTransposeRanges(setting: TransposeSetting): Ranges;
export function traceTransposeSettle(setting: TransposeSetting): ConvGeometry;
/** One stage of a checkerboard path (`kind`: a transposed conv, or nearest-neighbour upsampling then a conv). */
export interface CheckerboardStage {
  kind: 'transposed' | 'resize'; inH: number; inW: number; h: number; w: number; geometry: ConvGeometry;
  /** The stage's output for the image and kernel, and its largest |value|. */
  output: Float32Array; outputMax: number;
  /** Stamps (taps on the image) per cell in this stage alone, on a flat input. */
  coverage: Uint32Array; coverageMax: number;
  /** Input-to-output paths per cell through every stage so far (the output for ones everywhere). */
  paths: Uint32Array; pathsMin: number; pathsMax: number;
  /** 1 where the border does not reach; the distinct path counts there, ascending (one value: even). */
  interior: Uint8Array; interiorLevels: number[];
}
/** The setting of the checkerboard trace: image and kernel sizes, the stride of each stage (default 2). */
export interface CheckerboardSetting { size: Size2d; kernelSize: Size2d; stride?: Size2d }
/** `[min, max]` of each checkerboard setting (what its controls can reach). */
export interface CheckerboardLimits { size: Pair; kernelSize: Pair; stride: Pair }
/** Two stacked stride-n transposed convs beside nearest-neighbour upsampling then a conv (Distill's checkerboard). */
export function traceCheckerboard(input: Float32Array, kernel: Float32Array, setting: CheckerboardSetting): {
  h: number; w: number; kh: number; kw: number; stride: [number, number];
  /** Per axis: whether the kernel size is a multiple of the stride (even overlap). */
  even: [boolean, boolean];
  transposed: CheckerboardStage[]; resize: CheckerboardStage[];
  limits: CheckerboardLimits;
};
export function traceAdjoint(g: Float32Array, kernel: Float32Array, setting: TransposeSetting): { lhs: number; rhs: number; f: Float32Array; kf: Float32Array; ktG: Float32Array };
export function traceRoundTrip(input: Float32Array, kernel: Float32Array, setting: CorrelateSetting): { down: Float32Array; downH: number; downW: number; outputPadding: [number, number]; up: Float32Array };
export function tracePresetImage(opts: { name: string; size: Size2d; seed?: number }): Float32Array;
export function tracePresetKernel(opts: { name: string; size: number; seed?: number }): { values: Float32Array; size: number };
export function traceSchedules(a: Uint8Array, b: Uint8Array, channels: number): { len: number; channels: number; shifts: Int32Array; total: Float32Array; perChannel: Float32Array; matches: Uint8Array; zero: number; best: number; dense: number };
/** A 1×1 conv of `channelsIn` to `channelsOut` channels on a `size` image (random values from `seed`). */
export interface OneByOneSetting { channelsIn: number; channelsOut: number; size: Size2d; seed?: number }
export function traceOneByOne(opts: OneByOneSetting): { cIn: number; cOut: number; h: number; w: number; input: Float32Array; weight: Float32Array; conv: Float32Array; dense: Float32Array; pixelCell: Uint32Array };
/** The terms and their sum rounded to `decimals` (default 3) so that the shown terms add up to the shown sum. */
export function traceRoundedSum(values: Float32Array, decimals?: number): { terms: number[]; total: number };
/** One layer on a `size` × `channelsIn` image: a dense layer of `hidden` units, or a conv of `channelsOut` `kernelSize`² kernels. */
export interface ParamCountSetting { size: Size2d; channelsIn: number; channelsOut: number; kernelSize: number; hidden: number }
export function traceParamCounts(opts: ParamCountSetting): { inputs: bigint; denseHidden: bigint; denseSame: bigint; conv: bigint };

/** Lines of PyTorch, and the same joined by newlines (what a Copy button copies). */
export interface PytorchCode { lines: string[]; text: string }
/**
 * The PyTorch code of a scene's setting, from the same settings its trace runs (and refused as
 * the trace refuses them). `x` is the input `(1, 1, H, W)`, `w` the kernel, `y` the output;
 * `F` = `torch.nn.functional`, `nn` = `torch.nn`. Defaults (stride 1, padding 0, …) are left out.
 * - `conv2d` (the setting of `traceCorrelate`): `F.conv2d(x, w, stride=…, padding=…, dilation=…)`;
 *   an asymmetric padding as `F.pad(x, (left, right, top, bottom))` first; `flip` as `torch.flip(w, dims=(-2, -1))`;
 *   `normalized` as three `F.conv2d`s (the centred kernel, Σx and Σx² per window) and the quotient (`torch.where`: 0 where flat).
 * - `convTranspose2d` (`traceTranspose`): `F.conv_transpose2d(…, output_padding=…)`; an asymmetric
 *   padding as no padding and a crop `y[..., top:H−bottom, left:W−right]`.
 * - `checkerboard` (`traceCheckerboard`): two stride-n `F.conv_transpose2d` into `y`, and
 *   `F.interpolate(…, mode='nearest')` then `F.conv2d`, twice, into `z`.
 * - `dense`: the two days' correlation over every shift as `F.conv1d`, the value at `shift`,
 *   and the dense layer `F.linear` (F(0)).
 * - `oneByOne` (`traceOneByOne`), `paramCounts` (`traceParamCounts`): the 1×1 conv as a dense
 *   layer; the `nn.Linear` and `nn.Conv2d` whose parameters are counted.
 * - `train` (a Trainer's settings): the model's `nn.Sequential`, the batches, the optimiser
 *   (`torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)` / `torch.optim.Adam(…)`) and the loss.
 */
export function pytorchCode(setting:
  | ({ op: 'conv2d' } & CorrelateSetting)
  | ({ op: 'convTranspose2d' } & TransposeSetting)
  | ({ op: 'checkerboard' } & CheckerboardSetting)
  | { op: 'dense'; length: number; channels: number; shift?: number }
  | ({ op: 'oneByOne' } & OneByOneSetting)
  | ({ op: 'paramCounts' } & ParamCountSetting)
  | ({ op: 'train' } & TrainerSettings)): PytorchCode;

/** MNIST images and labels, decoded in wasm from IDX files (gzip-compressed or raw). */
export class Dataset {
  static load(images: Uint8Array, labels: Uint8Array): Dataset;
  readonly length: number;
  image(i: number): Float32Array;
  label(i: number): number;
  free(): void;
}
/** Why `bytes` is not a model the page can run, in plain words; undefined when it loads. */
export function modelFileProblem(bytes: Uint8Array): string | undefined;
export interface TrainerSettings {
  /** A shipped architecture, or any spec of a 1×28×28 input and ten classes out. */
  model: 'slp' | 'mlp' | 'cnn' | ModelSpec;
  optimizer?: 'sgd' | 'momentum' | 'adam';
  /** Above 0, at most 10. */
  lr?: number;
  /** 1..60000. */
  batch?: number;
  augment?: boolean;
  init?: 'zeros' | 'seeded';
  seed?: number;
  /** Keep the run's history (evenly spaced moments, at most 32 MB), so it can be rewound. */
  history?: boolean;
}
/** A kept moment of a training run. */
export interface TrainMoment { steps: number; samples: number; epoch: number; done: number; batchLoss?: number; batchAccuracy?: number }
/** The kept moments of a run (`Trainer.history()`). */
export interface TrainHistory {
  moments: TrainMoment[];
  /** Steps between kept moments now (it doubles as the run grows). */
  every: number;
  /** Most moments kept, and the bytes each takes. */
  cap: number;
  bytesEach: number;
  /** Why none is kept, if so. */
  off?: string;
}
export interface TrainStatus {
  model: string; optimizer: string; batch: number; epoch: number; done: number; perEpoch: number;
  samples: number; steps: number; lr: number; batchLoss: number; batchAccuracy: number; epochLoss: number; epochAccuracy: number;
}
export interface StepExplain {
  label: number; loss: number; probabilities: Float32Array; dlogits: Float32Array; lr: number;
  dense?: { layer: string; rows: number[]; dout: Float32Array; before: Float32Array; dw: Float32Array; after: Float32Array; maxDiff: number };
  conv?: {
    layer: string; inputShape: [number, number, number]; outputShape: [number, number, number]; kernelSize: [number, number];
    col: Float32Array; colShape: [number, number]; dout: Float32Array; dw: Float32Array; dwModel: Float32Array; dwDiff: number;
    dx: Float32Array; dxModel: Float32Array; dxDiff: number;
  };
}
export class Trainer {
  constructor(dataset: Dataset, settings: TrainerSettings);
  run(dataset: Dataset, steps: number): TrainStatus;
  status(): TrainStatus;
  gradients(dataset: Dataset, shard: number, shards: number): Float32Array;
  apply(grads: Float32Array[]): TrainStatus;
  evaluate(dataset: Dataset, count: number): { loss: number; accuracy: number; count: number };
  /** One step slowed down for image `index`; with `at`, by the weights of kept moment `at`. */
  explain(dataset: Dataset, index: number, at?: number | null): StepExplain;
  /** The highest-loss image among the first `count` (1..10000) of `dataset`. */
  hardest(dataset: Dataset, count: number, at?: number | null): { index: number; loss: number; label: number; predicted: number; count: number; wrong: number };
  /** Each class template's cosine with the class's mean image in `dataset`, plain and centred (slp, mlp). */
  templateCosines(dataset: Dataset): { plain: number[]; centred: number[]; least: number; leastClass: number };
  /** Per kept moment, the smallest centred template cosine; `first`: the first moment every template reaches `least` (slp, mlp). */
  templateHistory(dataset: Dataset, least: number): { least: Float32Array; first?: number };
  /** Throws the message `new Trainer` would for these settings and a dataset of `length` images. */
  static check(settings: TrainerSettings, length: number): void;
  /**
   * A layer's weights now or at kept moment `at`; `scale`: its colour scale (99th percentile of
   * |w|); the first weighted layer also has its gradient of the batch before (`grad`).
   */
  weights(name: string, at?: number | null): LayerWeights & { grad?: Float32Array; gradScale?: number };
  /** The run's kept moments (a trainer made with `{ history: true }`). */
  history(): TrainHistory;
  /** Goes back to kept moment `at` and trains on from there (the optimiser's state starts again). */
  rewind(at: number): TrainStatus;
  save(): Uint8Array;
  free(): void;
}
/** A parameterised layer's weights, `shape` as PyTorch's (`[C_out, C_in, kH, kW]`, `[out, in]`), and its bias. */
/** A layer's weights (a copy) and `scale`, the colour scale a heat map draws them on (99th percentile of |w|). */
export interface LayerWeights { data: Float32Array; shape: number[]; bias: Float32Array; scale: number }

/** `Model.adjointStep`'s answer. */
export interface AdjointStep extends ConvGeometry {
  layer: string;
  inputShape: [number, number, number]; outputShape: [number, number, number];
  kernelSize: Pair;
  /** ∂logit/∂(the conv's output), `outputShape`. */
  dout: Float32Array;
  /** conv_transpose2d(dout, W), and the layer's backward pass's dX (`inputShape`); their largest |difference|. */
  dx: Float32Array; dxModel: Float32Array; maxDiff: number;
  /** Colour scales: the largest |dout| and |dX|. */
  doutScale: number; dxScale: number;
  /** The dX cell explained, `[c, y, x]`: its value three ways, and how many stamps land on it. */
  cell: [number, number, number]; byTranspose: number; byModel: number; byStamps: number; stamps: number;
  /** The largest stamp on the cell: dout cell (channel, y, x) × kernel `W[channel, c]`, landing with its top-left tap at (top, left). */
  stamp?: { channel: number; y: number; x: number; dout: number; kernel: Float32Array; scaled: Float32Array; top: number; left: number };
}
