// The page's side of training: MNIST fetched from the page's own origin with a progress bar
// (kept while the page is open), and a pool of training workers. Worker 0 leads and reports;
// the others each take a shard of every batch (see worker.js). Events: "phase" { phase,
// loaded, total }, "ready", "progress" (the leader's report), "paused", "explain", "saved",
// "error" { what, message }.

const FILES = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
};

let cached = null;

/** Fetches `url` as bytes, calling `progress(loaded, total)` as chunks arrive. */
async function fetchBytes(url, progress) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || 0;
  if (!res.body) {
    const b = new Uint8Array(await res.arrayBuffer());
    progress(b.length, total);
    return b;
  }
  const reader = res.body.getReader();
  const parts = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    progress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * MNIST's four files from `data/mnist/`, downloaded once per page: `{ train: { images,
 * labels }, test: { images, labels } }` as ArrayBuffers. `progress(loaded, total)` in bytes.
 */
export function loadMnist(progress = () => {}) {
  if (!cached) {
    const names = [...FILES.train, ...FILES.test];
    const loaded = new Array(names.length).fill(0);
    const totals = new Array(names.length).fill(0);
    const tick = () => progress(loaded.reduce((a, b) => a + b, 0), totals.reduce((a, b) => a + b, 0));
    cached = Promise.all(names.map((n, i) => fetchBytes(new URL(`../../data/mnist/${n}`, import.meta.url), (l, t) => {
      loaded[i] = l;
      totals[i] = t;
      tick();
    }))).then(([ti, tl, si, sl]) => ({
      train: { images: ti.buffer, labels: tl.buffer },
      test: { images: si.buffer, labels: sl.buffer },
    }));
    cached.catch(() => { cached = null; });
  }
  return cached;
}

export class TrainPool extends EventTarget {
  constructor() {
    super();
    this.workers = [];
    this.ready = null;
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  /**
   * Starts `count` workers on `data` with `settings`, each running its kernels on `threads`
   * threads (the threaded build); resolves when all have decoded MNIST.
   */
  start({ flavour, data, settings, count, threads = 1 }) {
    this.stop();
    const n = Math.max(1, count);
    const channels = Array.from({ length: n - 1 }, () => new MessageChannel());
    let waiting = n;
    this.ready = new Promise((resolve, reject) => {
      for (let i = 0; i < n; i++) {
        const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
        w.onmessage = (e) => {
          const m = e.data;
          if (m.type === 'ready') {
            if (--waiting === 0) { resolve(); this.emit('ready', m); }
            return;
          }
          if (m.type === 'error' && waiting > 0 && m.what === 'init') reject(new Error(m.message));
          // Only the leader reports what it trains; a follower's error is still shown.
          if (i === 0 || (m.type === 'error' && m.what !== 'settings')) this.emit(m.type, m);
        };
        w.onerror = (e) => { this.emit('error', { what: 'worker', message: e.message || 'the training worker failed to start' }); reject(new Error(e.message)); };
        const ports = i === 0 ? channels.map((c) => c.port1) : [channels[i - 1].port2];
        // Each worker gets its own copy of the bytes (structured clone), so the cache stays.
        w.postMessage({ type: 'init', index: i, shards: n, flavour, threads, settings, train: data.train, test: i === 0 ? data.test : null, ports }, ports);
        this.workers.push(w);
      }
    });
    return this.ready;
  }

  get count() { return this.workers.length; }

  send(msg) { this.workers[0]?.postMessage(msg); }

  stop() {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.ready = null;
  }
}
