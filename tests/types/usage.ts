// A typed use of every export of the JS API, type-checked (never run) against
// crate/js/api.d.ts by tests/types.test.mjs: `tsc -p tests/types`. Each `@ts-expect-error` line
// is a misuse the declarations must refuse; tsc fails if one of them type-checks.

import init, {
  initSync, Tensor, matmul, conv2d, convTranspose2d, maxPool2d, relu, softmax, simdLevel,
  liveObjects, specInfo, specRanges, Model, Forward, preprocess, prepareInput, traceCorrelate,
  traceControls, traceCorrelateRanges, traceCorrelatePatch, traceCorrelateSettle, traceTranspose,
  traceTransposeAfter, traceTransposeRanges, traceTransposeSettle, traceCheckerboard, traceAdjoint,
  traceRoundTrip, tracePresetImage, tracePresetKernel, traceSchedules, traceOneByOne,
  traceRoundedSum, traceParamCounts, pytorchCode, Dataset, modelFileProblem, Trainer, threads,
  setThreads, onThreads,
} from '../../crate/js/api.js';
import type {
  Conv2dOptions, ConvTranspose2dOptions, MaxPool2dOptions, ModelSpec, LayerSpec, LayerKind,
  LayerInfo, Explanation, Peak, CorrelateSetting, TransposeSetting, CheckerboardSetting,
  CorrelateTrace, TransposeTrace, ConvGeometry, Ranges, TrainerSettings, TrainStatus,
  TrainHistory, TrainMoment, StepExplain, AdjointStep, PytorchCode, LayerWeights, Size2d,
} from '../../crate/js/api.js';

declare const bytes: Uint8Array;
declare const rgba: Uint8ClampedArray;

export async function everything(): Promise<void> {
  await init();
  await init({ module_or_path: new URL('convscope_bg.wasm', 'https://example.org/') });
  initSync({ module: bytes });

  // Tensors and the ops.
  const x = new Tensor(new Float32Array(2 * 3 * 8 * 8), [2, 3, 8, 8]);
  const w = new Tensor(new Float32Array(4 * 3 * 3 * 3), [4, 3, 3, 3]);
  const b = new Tensor(new Float32Array(4), [4]);
  const shape: readonly number[] = x.shape;
  const data: Float32Array = x.toArray();
  const opts: Conv2dOptions = { stride: 2, padding: [1, 1, 2, 2], dilation: [1, 2], groups: 1 };
  const y: Tensor = conv2d(x, w, b, opts);
  conv2d(x, w);
  conv2d(x, w, null, { padding: [1, 2] });
  const tOpts: ConvTranspose2dOptions = { stride: [2, 2], outputPadding: 1 };
  const up: Tensor = convTranspose2d(y, w, undefined, tOpts);
  const pOpts: MaxPool2dOptions = { kernelSize: 2, ceilMode: true, stride: null };
  const pooled: Tensor = maxPool2d(relu(up), pOpts);
  const probs: Tensor = softmax(matmul(new Tensor(data, [2, 384]), new Tensor(data, [384, 1])), -1);
  const level: 'relaxed' | 'simd128' | 'none' = simdLevel();
  const live: number = liveObjects().memoryBytes + liveObjects().tensors;
  const running: number = threads() + (await setThreads(2));
  // @ts-expect-error: setThreads takes a number, not a string.
  await setThreads('2');
  const stop: () => void = onThreads((n: number) => console.log(`${n} threads`));
  stop();
  // @ts-expect-error: the listener is told a number.
  onThreads((n: string) => n);
  for (const t of [x, w, b, y, up, pooled, probs]) t.free();

  // @ts-expect-error: a misspelt option (strid) is not an option of conv2d.
  conv2d(x, w, null, { strid: 2 });
  // @ts-expect-error: stride is a number or [h, w], not a string.
  conv2d(x, w, null, { stride: '2' });
  // @ts-expect-error: padding has 1, 2 or 4 values, not 3.
  conv2d(x, w, null, { padding: [1, 2, 3] });
  // @ts-expect-error: the weight is required.
  conv2d(x);
  // @ts-expect-error: outputPadding is an option of convTranspose2d only.
  conv2d(x, w, null, { outputPadding: 1 });
  // @ts-expect-error: maxPool2d needs a kernelSize.
  maxPool2d(x, { stride: 2 });
  // @ts-expect-error: a Float32Array is not a Tensor.
  relu(data);
  // @ts-expect-error: the shape is read-only.
  x.shape = [1];

  // Models.
  const spec: ModelSpec = {
    input: [1, 28, 28],
    layers: [
      { kind: 'conv2d', name: 'conv1', outChannels: 8, kernelSize: 5, padding: 2, groups: 1 },
      { kind: 'batchnorm2d', eps: 1e-5 },
      { kind: 'leakyrelu', negativeSlope: 0.1 },
      { kind: 'maxpool2d', kernelSize: 2, stride: null },
      { kind: 'convtranspose2d', outChannels: 8, kernelSize: 2, stride: 2, outputPadding: 0 },
      { kind: 'add', from: 1 },
      { kind: 'avgpool2d', kernelSize: 2, countIncludePad: false },
      { kind: 'flatten' },
      { kind: 'linear', name: 'fc', outFeatures: 10, bias: true },
      { kind: 'softmax' },
    ],
  };
  // @ts-expect-error: 'conv' is not a layer kind.
  const wrongKind: LayerSpec = { kind: 'conv', outChannels: 8, kernelSize: 3 };
  // @ts-expect-error: a conv2d layer needs outChannels.
  const noChannels: LayerSpec = { kind: 'conv2d', kernelSize: 3 };
  // @ts-expect-error: a linear layer has no kernelSize.
  const linearKernel: LayerSpec = { kind: 'linear', outFeatures: 10, kernelSize: 3 };
  const kinds: LayerKind[] = specRanges().kinds;
  const info = specInfo(spec);
  const firstError: string | undefined = info.error?.message;
  const model: Model = Model.fromSpec(spec, 3);
  const loaded: Model = Model.load(bytes);
  Model.fromSpec(JSON.stringify(spec));
  const arch: 'cnn' | 'slp' | 'mlp' | 'custom' = model.arch;
  const [c, h, wd]: [number, number, number] = model.inputShape;
  const again: ModelSpec = model.spec();
  const files: Uint8Array[] = [model.save(), model.toOnnx()];
  const layers: LayerInfo[] = model.layers();
  const geometry: ConvGeometry | undefined = layers[1]?.conv;
  const code: PytorchCode = model.pytorchCode();
  const weights: LayerWeights = model.weights('conv1');
  const pixels = new Float32Array(c * h * wd);
  const fwd: Forward = model.forward(pixels);
  const acts: Float32Array[] = [fwd.activation(fwd.numLayers() - 1), fwd.output(), fwd.probabilities()];
  const layerName: string = fwd.name(1) + fwd.shape(1).join('×') + fwd.top();
  const why: Explanation = fwd.explain(1, 0, 3, 4);
  const shownTotal: number = why.shown.total + why.field.length;
  const peak: Peak = fwd.peak(1, null);
  fwd.peak(2);
  fwd.free();
  const grad: Float32Array = model.inputGradient(pixels, { target: 3, of: 'loss', timesInput: true });
  // @ts-expect-error: `of` is 'logit', 'probability' or 'loss'.
  model.inputGradient(pixels, { target: 3, of: 'logits' });
  // @ts-expect-error: inputGradient needs a target.
  model.inputGradient(pixels, {});
  const cam = model.gradCam(pixels, { layer: 2, target: 7 });
  const camCells: number = cam.map.length + cam.upsampled.length + cam.h * cam.w;
  const adjoint: AdjointStep = model.adjointStep(pixels, { layer: 'conv1', target: 7, cell: [0, 3, 4] });
  const adjointGeometry: ConvGeometry = adjoint;
  const adv = model.adversarial(pixels, { epsilon: 0.1, label: 3, steps: 10, target: null });
  const advTop: number = adv.top;
  const dream: Float32Array = model.classImage(3, { steps: 20, blur: 0.5 }, null).pixels;
  model.classImage(3, null, dream);
  const occl = model.occlusion(pixels, { target: 3, patch: 7, stride: 2, value: 0 });
  const predicted: Float32Array = model.predict(pixels);
  // @ts-expect-error: a model's history lives on its Trainer.
  model.history();
  model.free();
  loaded.free();

  // Inputs from a canvas, and model files.
  const pre: Float32Array | null = preprocess(rgba, 280, 280);
  const fit: Float32Array | null = prepareInput(rgba, 280, 280, [3, 32, 32], true);
  const problem: string | undefined = modelFileProblem(bytes);

  // Training, with a history to rewind.
  const dataset: Dataset = Dataset.load(bytes, bytes);
  const image: Float32Array = dataset.image(dataset.length - 1);
  const label: number = dataset.label(0);
  const settings: TrainerSettings = { model: 'cnn', optimizer: 'adam', lr: 1e-3, batch: 64, augment: true, init: 'seeded', seed: 1, history: true };
  Trainer.check(settings, dataset.length);
  const trainer = new Trainer(dataset, settings);
  new Trainer(dataset, { model: spec });
  // @ts-expect-error: 'rmsprop' is not an optimizer here.
  new Trainer(dataset, { model: 'cnn', optimizer: 'rmsprop' });
  // @ts-expect-error: the settings need a model.
  new Trainer(dataset, { lr: 0.1 });
  const status: TrainStatus = trainer.run(dataset, 10);
  const grads: Float32Array = trainer.gradients(dataset, 0, 2);
  const applied: TrainStatus = trainer.apply([grads, grads]);
  const evaluated = trainer.evaluate(dataset, 100);
  const history: TrainHistory = trainer.history();
  const moment: TrainMoment | undefined = history.moments[history.moments.length - 1];
  const step: StepExplain = trainer.explain(dataset, 0, 0);
  const dw: Float32Array | undefined = step.conv?.dw;
  const hardest = trainer.hardest(dataset, 100, null);
  const cosines = trainer.templateCosines(dataset);
  const first: number | undefined = trainer.templateHistory(dataset, 0.6).first;
  const trainerWeights = trainer.weights('conv1', 0);
  const gradScale: number | undefined = trainerWeights.gradScale;
  const rewound: TrainStatus = trainer.rewind(0);
  const trained: Uint8Array = trainer.save();
  const trainCode: PytorchCode = pytorchCode({ op: 'train', ...settings });
  trainer.free();
  dataset.free();

  // The traces.
  const input = new Float32Array(8 * 8);
  const kernel = new Float32Array(3 * 3);
  const corr: CorrelateSetting = { size: 8, kernelSize: 3, stride: 2, padding: 1, flip: true, normalized: true };
  const trace: CorrelateTrace = traceCorrelate(input, kernel, corr);
  const ncc: number | undefined = trace.ncc?.matchAt;
  const ranges: Ranges = traceCorrelateRanges(corr);
  const settled: ConvGeometry = traceCorrelateSettle(corr);
  const patch = traceCorrelatePatch(input, { size: 8, top: 1, left: 2, kernelSize: 3 });
  const tSetting: TransposeSetting = { size: [4, 5], kernelSize: 3, stride: 2, outputPadding: 1, seed: 2 };
  const tTrace: TransposeTrace = traceTranspose(input, kernel, tSetting);
  const after = traceTransposeAfter(input, kernel, tSetting, 3);
  const tRanges: Ranges = traceTransposeRanges(tSetting);
  const tSettled: ConvGeometry = traceTransposeSettle(tSetting);
  const cb: CheckerboardSetting = { size: 8, kernelSize: 3, stride: 2 };
  const board = traceCheckerboard(input, kernel, cb);
  const paths: number = board.transposed[0]!.pathsMax + board.limits.stride[1];
  const controls = traceControls();
  const maxBatch: number = controls.train.batch[1] + controls.checkerboard.size[0];
  const adj = traceAdjoint(input, kernel, tSetting);
  const trip = traceRoundTrip(input, kernel, corr);
  const preset: Float32Array = tracePresetImage({ name: 'digit', size: [8, 8], seed: 1 });
  const presetKernel = tracePresetKernel({ name: 'edge', size: 3 });
  const sched = traceSchedules(bytes, bytes, 3);
  const oneByOne = traceOneByOne({ channelsIn: 3, channelsOut: 2, size: 4 });
  const rounded = traceRoundedSum(kernel, 2);
  const counts = traceParamCounts({ size: 28, channelsIn: 1, channelsOut: 8, kernelSize: 3, hidden: 100 });
  const conv2dParams: bigint = counts.conv + counts.denseHidden;
  // @ts-expect-error: a correlation's setting needs a kernelSize.
  traceCorrelate(input, kernel, { size: 8 });
  // @ts-expect-error: the checkerboard trace takes no padding.
  traceCheckerboard(input, kernel, { size: 8, kernelSize: 3, padding: 1 });

  // The PyTorch line of every scene.
  const lines: string[] = [
    pytorchCode({ op: 'conv2d', ...corr }),
    pytorchCode({ op: 'convTranspose2d', ...tSetting }),
    pytorchCode({ op: 'checkerboard', ...cb }),
    pytorchCode({ op: 'dense', length: 24, channels: 3, shift: -2 }),
    pytorchCode({ op: 'oneByOne', channelsIn: 3, channelsOut: 2, size: 4 }),
    pytorchCode({ op: 'paramCounts', size: 28, channelsIn: 1, channelsOut: 8, kernelSize: 3, hidden: 100 }),
  ].flatMap((code) => code.lines);
  // @ts-expect-error: 'conv3d' is not an op.
  pytorchCode({ op: 'conv3d', size: 8, kernelSize: 3 });
  // @ts-expect-error: a dense setting needs channels.
  pytorchCode({ op: 'dense', length: 24 });

  const size: Size2d = [3, 4];
  console.log(
    shape, level, live, running, kinds, firstError, arch, again, files, geometry, code, weights, acts,
    layerName, shownTotal, peak, grad, camCells, adjointGeometry, advTop, occl, predicted, pre,
    fit, problem, image, label, status, applied, evaluated, moment, dw, hardest, cosines, first,
    gradScale, rewound, trained, trainCode, ncc, ranges, settled, patch, tTrace, after, tRanges,
    tSettled, paths, maxBatch, adj, trip, preset, presetKernel, sched, oneByOne, rounded,
    conv2dParams, lines, size, wrongKind, noChannels, linearKernel,
  );
}
