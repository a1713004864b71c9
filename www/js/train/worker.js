// A training worker: its own wasm instance, its own copy of MNIST (decoded in wasm) and a
// Trainer. Worker 0 leads: it runs the loop, evaluates, and reports to the page; with more
// workers each batch is split into shards, every follower computes its shard's gradients
// (over a MessagePort straight to the leader), and every worker applies the same mean of all
// shards, so their weights stay equal. No maths here: the Trainer does it all in wasm.

let api = null;
let train = null;
let test = null;
let trainer = null;
let settings = null;
let index = 0;
let shards = 1;
let followers = []; // the leader's ports to workers 1..n-1
let leaderPort = null; // a follower's port to the leader
let running = false;
let looping = false;
let epochSeen = -1;
let pace = 0; // samples per second at most (0: as fast as it goes)
let paceChanged = false;

const TEST_SUBSET = 1000;
const REPORT_MS = 150;
const EVAL_MS = 400;
// …and at every multiple of this many samples, so a fast model is checked often, at the same
// points on every run.
const EVAL_SAMPLES = 10000;
// The evaluations between those points take at most this share of the run's time: the test
// subset's 1,000 forward passes cost about a third of 1,000 training samples, which at a check
// every 400 ms was a quarter of a fast model's time (and the other workers waited for it). A
// cheap model (the slp) still gets a test point every 400 ms. Measured on the Train page (cnn,
// 2 threads, 3 interleaved rounds each): 98.5% after a median 14.1 s at 0.02 against 15.4 s at
// 0.05 (a slow hour), 8% sooner.
const EVAL_SHARE = 0.02;
// …and none while the fixed points come closer together than this: the cnn at full speed on
// two cores (10,000 samples in under a second) gets its test points from them alone.
const EVAL_GAP_MS = 1500;
const CHUNK_MS = 30;

const post = (msg, transfer) => self.postMessage(msg, transfer ?? []);

function fail(err, what) {
  post({ type: 'error', what, message: err instanceof Error ? err.message : String(err) });
}

/** Yields to the event loop (messages such as "pause" get in) without setTimeout's clamping. */
function yieldNow() {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(0);
  });
}

async function load(flavour) {
  const base = new URL('../../pkg/', import.meta.url);
  const mod = await import(new URL(`${flavour}/api.js`, base).href);
  const res = await fetch(new URL(`${flavour}/convscope_bg.wasm`, base));
  if (!res.ok) throw new Error(`could not load the wasm: HTTP ${res.status}`);
  await mod.default({ module_or_path: new Uint8Array(await res.arrayBuffer()) });
  return mod;
}

/** How many of the mlp's 128 hidden neurons the page draws (the rows sent). */
const MLP_SHOWN = 32;

/**
 * The tensors to draw for this architecture, now or at kept moment `at`: the slp's fc1, the
 * first 32 rows of the mlp's (the ones the page shows: a quarter of the bytes to copy), the
 * cnn's kernels; each with its colour scale, and the first layer with its gradient of the
 * batch before (all from wasm's `Trainer.weights`).
 */
function weightsFor(arch, at) {
  const names = arch === 'cnn' ? ['conv1', 'conv2'] : arch === 'custom' ? firstWeighted() : ['fc1'];
  return Object.fromEntries(names.map((n) => {
    let w = trainer.weights(n, at);
    if (arch === 'mlp' || (arch === 'custom' && w.shape.length === 2)) {
      const per = w.data.length / w.shape[0];
      const rows = Math.min(MLP_SHOWN, w.shape[0]);
      w = { ...w, data: w.data.slice(0, rows * per), grad: w.grad?.slice(0, rows * per), shape: [rows, ...w.shape.slice(1)] };
    }
    return [n, w];
  }));
}

/** The buffers of `weights` to move to the page. */
const buffers = (weights) => Object.values(weights).flatMap((w) => [w.data.buffer, ...(w.grad ? [w.grad.buffer] : [])]);

/** A design's first conv or dense layer (its kernels or its neurons are what the page draws). */
function firstWeighted() {
  try {
    const first = api.specInfo(settings.model).layers.find((l) => (l.kind === 'conv2d' || l.kind === 'linear') && l.params > 0);
    return first ? [first.name] : [];
  } catch {
    return [];
  }
}

function needTrainer() {
  if (!trainer) throw new Error('no training run yet: the settings were refused (see above)');
}

function makeTrainer(s) {
  // Made before the old one goes: a refused setting leaves the current run as it was. Every
  // worker keeps the run's history (the same moments: they apply the same updates), so any
  // can go back to one.
  const t = new api.Trainer(train, { ...s, history: true });
  trainer?.free();
  trainer = t;
  settings = s;
  epochSeen = -1;
}

function report(extra = {}) {
  const status = trainer.status();
  const weights = weightsFor(status.model);
  // The copies are moved to the page, not copied again.
  post({ type: 'progress', status, weights, history: trainer.history(), ...extra }, buffers(weights));
}

function evaluate(full) {
  const e = trainer.evaluate(test, full ? test.length : TEST_SUBSET);
  return { ...e, full, samples: trainer.status().samples };
}

/** One step on every worker; returns the status. */
async function step() {
  if (shards === 1) return trainer.run(train, 1);
  for (const p of followers) p.postMessage({ type: 'grad' });
  const mine = trainer.gradients(train, 0, shards);
  const others = await Promise.all(followers.map((p) => new Promise((resolve, reject) => {
    p.onmessage = (e) => (e.data.type === 'grad' ? resolve(e.data.grads) : reject(new Error(e.data.message)));
  })));
  const all = [mine, ...others];
  const status = trainer.apply(all);
  // Applied here first, so the buffers can move to the last follower instead of being copied.
  followers.forEach((p, i) => {
    const last = i === followers.length - 1;
    p.postMessage({ type: 'apply', grads: all }, last ? all.map((g) => g.buffer) : []);
  });
  return status;
}

/** Several steps, for about CHUNK_MS (one call into wasm on a single worker). */
async function chunk(budget) {
  if (shards === 1) return trainer.run(train, budget);
  let s = null;
  for (let i = 0; i < budget; i++) s = await step();
  return s;
}

async function loop() {
  if (looping) return;
  looping = true;
  let lastReport = 0;
  // Not a test point right after the first chunk: the model has one already (made with the
  // trainer, or by the run before a pause), and on the cnn it cost 60–100 ms of a fresh run
  // (cold code), about 1% of its way to 98.5%.
  let lastEval = performance.now();
  let budget = 1;
  let t0 = performance.now();
  let s0 = trainer.status().samples;
  let nextEval = (Math.floor(s0 / EVAL_SAMPLES) + 1) * EVAL_SAMPLES;
  const began = performance.now();
  let evalMs = 0; // spent evaluating since `began`
  try {
    while (running) {
      if (paceChanged) {
        paceChanged = false;
        t0 = performance.now();
        s0 = trainer.status().samples;
      }
      const start = performance.now();
      // A chunk ends at the next evaluation point at the latest.
      const before = trainer.status();
      const toEval = Math.ceil((nextEval - before.samples) / before.batch);
      const s = await chunk(Math.max(1, Math.min(budget, toEval)));
      const took = performance.now() - start;
      // Adapt the chunk so that one lasts about CHUNK_MS (at a set pace, at most 50 ms of it).
      budget = Math.max(1, Math.min(1000, Math.round(budget * (CHUNK_MS / Math.max(took, 0.5)))));
      if (pace > 0) {
        budget = Math.min(budget, Math.max(1, Math.round((pace * 0.05) / s.batch)));
        const wait = t0 + ((s.samples - s0) / pace) * 1000 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const now = performance.now();
      // How far apart the fixed points come at this run's rate so far (ms).
      const gap = (EVAL_SAMPLES * (now - t0)) / Math.max(s.samples - s0, 1);
      const extra = {};
      if (s.epoch !== epochSeen && epochSeen >= 0) {
        // An epoch finished: the full test set.
        extra.evaluation = evaluate(true);
        extra.evaluation.epoch = epochSeen;
      } else if (s.samples >= nextEval || (now - lastEval > EVAL_MS && evalMs <= EVAL_SHARE * (now - began) && gap > EVAL_GAP_MS)) {
        extra.evaluation = evaluate(false);
        lastEval = now;
      }
      if (extra.evaluation) evalMs += performance.now() - now;
      while (nextEval <= s.samples) nextEval += EVAL_SAMPLES;
      epochSeen = s.epoch;
      if (now - lastReport > REPORT_MS || extra.evaluation) {
        extra.rate = (s.samples - s0) / ((now - t0) / 1000);
        report(extra);
        lastReport = now;
      }
      await yieldNow();
    }
  } catch (err) {
    running = false;
    fail(err, 'train');
  }
  s0 = 0;
  looping = false;
  post({ type: 'paused', status: trainer?.status() });
}

// A follower answers the leader: its shard's gradients, then the update of all shards.
function follow(port) {
  port.onmessage = (e) => {
    try {
      if (e.data.type === 'grad') {
        const g = trainer.gradients(train, index, shards);
        port.postMessage({ type: 'grad', grads: g }, [g.buffer]);
      }
      else if (e.data.type === 'apply') trainer.apply(e.data.grads);
      else if (e.data.type === 'rewind') trainer.rewind(e.data.at);
      else if (e.data.type === 'reset') makeTrainer(e.data.settings);
    } catch (err) {
      port.postMessage({ type: 'error', message: err.message });
    }
  };
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    switch (m.type) {
      case 'init': {
        index = m.index;
        shards = m.shards;
        api = await load(m.flavour);
        // The threaded build: this worker's kernels split across its own thread pool.
        if (m.flavour === 'threads' && m.threads > 1) await api.setThreads(m.threads);
        post({ type: 'phase', phase: 'decode' });
        train = api.Dataset.load(new Uint8Array(m.train.images), new Uint8Array(m.train.labels));
        if (m.test) test = api.Dataset.load(new Uint8Array(m.test.images), new Uint8Array(m.test.labels));
        if (index === 0) followers = m.ports ?? [];
        else { leaderPort = m.ports[0]; follow(leaderPort); }
        // A refused setting is reported, and the worker waits for a good one.
        let refused = null;
        try { makeTrainer(m.settings); } catch (err) { refused = err; }
        // The refusal goes first, so the page knows of it when "ready" arrives.
        if (refused) fail(refused, 'settings');
        post({ type: 'ready', length: train.length });
        if (!refused && index === 0) report({ evaluation: evaluate(false) });
        break;
      }
      case 'settings': {
        // A new run: every worker rebuilds its trainer with the same settings.
        running = false;
        while (looping) await yieldNow();
        makeTrainer(m.settings);
        for (const p of followers) p.postMessage({ type: 'reset', settings: m.settings });
        report({ evaluation: evaluate(false), reset: true });
        break;
      }
      case 'pace':
        pace = Number(m.pace) > 0 ? Number(m.pace) : 0;
        paceChanged = true;
        break;
      case 'start':
        needTrainer();
        running = true;
        loop();
        break;
      case 'pause':
        running = false;
        break;
      case 'step': {
        // `n` batches (1 when not given), then a report with the test subset's accuracy.
        needTrainer();
        if (running) break;
        const s = await chunk(Math.max(1, Math.min(1000, Math.floor(Number(m.n) || 1))));
        // On request: how much the class templates look like the test set's mean digits.
        const extra = m.cosines ? { cosines: trainer.templateCosines(test) } : {};
        report({ evaluation: evaluate(false), rate: null, stepped: s.samples, ...extra });
        break;
      }
      case 'explain': {
        // No index: the image the model gets most wrong among the first `hardestOf` (wasm picks
        // it). `at`: by the weights of a kept moment (null: now).
        needTrainer();
        const at = m.at ?? null;
        const picked = m.index === null ? trainer.hardest(train, m.hardestOf, at) : null;
        const i = picked ? picked.index : m.index;
        post({ type: 'explain', index: i, picked, at, label: train.label(i), image: train.image(i), step: trainer.explain(train, i, at) });
        break;
      }
      case 'moment': {
        // The weights (and first-layer gradients) of kept moment `at`, for the scrubber.
        needTrainer();
        const h = trainer.history();
        const weights = weightsFor(trainer.status().model, m.at);
        post({ type: 'moment', at: m.at, moment: h.moments[m.at], weights }, buffers(weights));
        break;
      }
      case 'firstLike': {
        // When the templates first looked like digits: wasm scores every kept moment.
        needTrainer();
        post({ type: 'firstLike', least: m.least, ...trainer.templateHistory(test, m.least) });
        break;
      }
      case 'rewind': {
        // Back to kept moment `at`, on every worker; training goes on from there.
        needTrainer();
        running = false;
        while (looping) await yieldNow();
        const moment = trainer.history().moments[m.at];
        trainer.rewind(m.at);
        for (const p of followers) p.postMessage({ type: 'rewind', at: m.at });
        report({ evaluation: evaluate(false), rewound: moment });
        break;
      }
      case 'save':
        needTrainer();
        post({ type: 'saved', purpose: m.purpose, arch: trainer.status().model, bytes: trainer.save() });
        break;
      default:
        throw new Error(`unknown message ${m.type}`);
    }
  } catch (err) {
    fail(err, m.type);
  }
};
