// The page's entry point: load the wasm, show which build runs, then hand each scene its
// section. The router keeps the active scene and its settings in the URL hash.
import { loadWasm } from './wasm.js';
import { Router } from './router.js';
import { Shared } from './shared.js';
import { SCENES } from './scenes/index.js';

// The skip link moves the focus to the scene without touching the hash (the router's).
document.getElementById('skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  const active = document.querySelector('.scene:not([hidden])') ?? document.getElementById('scenes');
  active.tabIndex = -1;
  active.focus();
});

// The sticky players sit under the sticky top bar, whose height changes as its links wrap.
const topbar = document.querySelector('header.topbar');
if (topbar) {
  // On a phone the bar is not sticky (it scrolls away), so the players pin to the very top.
  const measure = () => document.documentElement.style.setProperty('--topbar-h', `${getComputedStyle(topbar).position === 'sticky' ? topbar.offsetHeight : 0}px`);
  new ResizeObserver(measure).observe(topbar);
  window.addEventListener('resize', measure);
}

/** The header's build line: which build, how many threads, and why not more when it says so. */
function showBuild(status, api, flavour, why) {
  const n = api.threads();
  // Short enough to keep the top bar one line at 1280 px; the title says the rest.
  const name = { threads: 'relaxed-simd', relaxed: 'relaxed-simd', simd128: 'simd128' }[flavour];
  status.textContent = `${name} · ${n} thread${n === 1 ? '' : 's'}${why ? ` (${why.short})` : ''}`;
  status.title = `Running the ${flavour} build (simdLevel() = ${api.simdLevel()}) on ${n} thread${n === 1 ? '' : 's'}${why ? `: one thread because ${why.text}` : ''}. The API is globalThis.convscope (await convscope.setThreads(n)).`;
  status.dataset.flavour = flavour;
  status.dataset.threads = String(n);
  if (why) status.dataset.why = why.text;
  else delete status.dataset.why;
}

async function main() {
  const status = document.getElementById('build');
  let api;
  let flavour;
  let why;
  try {
    ({ api, flavour, why } = await loadWasm());
  } catch (err) {
    status.textContent = `could not start: ${err.message}`;
    status.dataset.flavour = 'error';
    console.error(err);
    return;
  }
  // The API module the page runs on, for the console and for checks from outside:
  // convscope.threads(), await convscope.setThreads(n), convscope.conv2d(…).
  globalThis.convscope = api;
  showBuild(status, api, flavour, why);
  api.onThreads(() => showBuild(status, api, flavour, why));

  const shared = new Shared(api);
  const router = new Router(SCENES, { api, flavour, shared });
  await router.start();
  document.body.dataset.ready = 'true';
}

main();
