// "Show me": a scene's one idea in one sentence, and a button that plays a scripted run of the
// scene that pauses at the moments that make the point, each with a one-line caption.
//
// A scene declares its script in one place (a `SHOW_ME` constant at the top of its file):
//   { idea: 'one sentence', stops: [{ caption: 'one line', go: async (run) => { … } }, …] }
// `go` brings the scene to the moment (it may animate: `await run.steps(player, to)` plays a
// player up to step `to` at a steady pace; `await run.wait(ms)` waits); when it resolves the run
// pauses there with the caption until the viewer presses "Next" (or → / Enter on the bar); at
// the last stop the run is done and its caption stays. Any control the viewer touches outside the bar ends the run too
// (`run.cancel()`); every await inside `go` then rejects with a `ShowMeCancelled`, so a script
// needs no checks of its own.
//
// Stable hooks: `[data-showme]` (the bar; `data-state` = idle | playing | paused | done (the
// last stop: its caption stays), `data-pause` = the 0-based index of the stop it is paused at, `data-pauses` = how many),
// `.showme-play`, `.showme-next`, `.showme-stop`, `.showme-caption`, `.showme-idea`.
import { el } from '../dom.js';

export class ShowMeCancelled extends Error {
  constructor() { super('show me: cancelled'); this.name = 'ShowMeCancelled'; }
}

export class ShowMe {
  /**
   * @param host   the element the bar is appended to (usually right after the scene's heading)
   * @param opts   { id (the scene's name, for ids), idea, stops, before?: () => void (called
   *               once when a run starts, e.g. to reset settings), after?: () => void,
   *               scope (where a viewer's click, key or change ends the run; the scene) }
   */
  constructor(host, { id, idea, stops, before, after, scope = host.closest('.scene') ?? host }) {
    this.stops = stops;
    this.before = before;
    this.after = after;
    this.run = null;
    this.playBtn = el('button.cs-btn.cs-primary.showme-play', { id: `${id}-showme`, type: 'button', onclick: () => this.toggle() }, '▶ Show me');
    this.nextBtn = el('button.cs-btn.showme-next', { id: `${id}-showme-next`, type: 'button', hidden: true, onclick: () => this.next() }, 'Next ▸');
    this.stopBtn = el('button.cs-btn.showme-stop', { id: `${id}-showme-stop`, type: 'button', hidden: true, onclick: () => this.cancel() }, 'Stop');
    this.caption = el('p.showme-caption', { id: `${id}-showme-caption`, role: 'status', 'aria-live': 'polite' });
    this.count = el('span.showme-count', { 'aria-hidden': 'true' });
    this.node = el('div.showme', { 'data-showme': id, 'data-state': 'idle', 'data-pauses': String(stops.length), role: 'group', 'aria-label': 'Show me: a guided run' },
      el('p.showme-idea', {}, el('b', {}, 'The idea: '), idea),
      el('div.showme-row', {}, this.playBtn, this.nextBtn, this.stopBtn, this.count, this.caption));
    this.node.addEventListener('keydown', (e) => {
      if (this.node.dataset.state === 'paused' && (e.key === 'ArrowRight' || e.key === 'Enter') && e.target !== this.stopBtn) {
        e.preventDefault();
        e.stopPropagation();
        this.next();
      }
    });
    host.append(this.node);
    // The viewer taking over (a click, a key or a change anywhere else in the scene) ends the run.
    const takeOver = (e) => { if (this.run && !this.node.contains(e.target)) this.cancel(); };
    for (const type of ['pointerdown', 'change']) scope.addEventListener(type, takeOver, true);
    scope.addEventListener('keydown', (e) => { if (e.key !== 'Tab' && e.key !== 'Shift') takeOver(e); }, true);
  }

  get state() { return this.node.dataset.state; }

  set state(s) {
    this.node.dataset.state = s;
    const active = s === 'playing' || s === 'paused';
    this.playBtn.textContent = active ? '↺ Restart' : '▶ Show me';
    this.nextBtn.hidden = !active;
    this.stopBtn.hidden = !active;
    this.nextBtn.disabled = s !== 'paused';
    this.nextBtn.title = s === 'paused' ? '' : 'wait: the run is moving to the next moment';
  }

  toggle() { if (this.run) this.cancel(); this.start(); }

  /**
   * Plays the script from its first stop. At the last stop the run is "done": its caption and
   * pause stay on screen, and "Show me" plays it again.
   */
  async start() {
    const run = new Run(this);
    this.run = run;
    this.state = 'playing';
    try {
      this.before?.();
      for (let i = 0; i < this.stops.length; i++) {
        this.node.dataset.pause = '';
        this.caption.textContent = '';
        this.count.textContent = '';
        this.state = 'playing';
        await this.stops[i].go(run);
        run.check();
        this.node.dataset.pause = String(i);
        this.count.textContent = `${i + 1} / ${this.stops.length}`;
        this.caption.textContent = this.stops[i].caption;
        this.state = 'paused';
        if (i === this.stops.length - 1) break;
        await run.until();
      }
      this.run = null;
      this.state = 'done';
      this.nextBtn.hidden = true;
      this.stopBtn.hidden = true;
      this.after?.();
    } catch (e) {
      if (!(e instanceof ShowMeCancelled)) throw e;
    }
  }

  next() { this.run?.resume(); }

  /** Ends the run where it is (the scene keeps what it shows). */
  cancel() {
    if (!this.run) return;
    this.run.cancel();
    this.run = null;
    this.node.dataset.pause = '';
    this.count.textContent = '';
    this.caption.textContent = '';
    this.state = 'idle';
  }
}

/** One run of a script: its waits end early (with ShowMeCancelled) once it is cancelled. */
class Run {
  constructor(owner) {
    this.owner = owner;
    this.cancelled = false;
    this.wakers = new Set();
  }

  check() { if (this.cancelled) throw new ShowMeCancelled(); }

  cancel() {
    this.cancelled = true;
    for (const w of this.wakers) w();
    this.wakers.clear();
  }

  /** Waits `ms` milliseconds (0 under prefers-reduced-motion is the scene's choice). */
  wait(ms) {
    this.check();
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(t); this.wakers.delete(done); if (this.cancelled) reject(new ShowMeCancelled()); else resolve(); };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** Waits until the viewer presses Next. */
  until() {
    this.check();
    return new Promise((resolve, reject) => {
      const done = () => { this.wakers.delete(done); this.resumer = null; if (this.cancelled) reject(new ShowMeCancelled()); else resolve(); };
      this.resumer = done;
      this.wakers.add(done);
    });
  }

  resume() { this.resumer?.(); }

  /**
   * Steps `player` (a scene's step Player) from where it is to step `to`, one step every
   * `ms` milliseconds (at once under prefers-reduced-motion), then leaves it paused there.
   */
  async steps(player, to, ms = 180) {
    this.check();
    player.pause();
    const target = Math.max(0, Math.min(player.steps - 1, to));
    if (player.reducedMotion || target < player.t) { player.go(target); return; }
    while (player.t < target) {
      await this.wait(ms);
      player.go(player.t + 1);
    }
  }
}
