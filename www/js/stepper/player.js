// The step player shared by the correlate and transpose scenes (play/pause, step back and
// forward, a scrub bar, speed), and small labelled form controls. A player only counts steps;
// what a step shows is the scene's business.
import { el } from '../dom.js';
import { SPEEDS, speedLabel } from '../schema.js';

export class Player {
  /** @param opts { prefix (id prefix), label, onStep(t), reducedMotion } */
  constructor(container, { prefix, label, onStep, reducedMotion = false }) {
    this.onStep = onStep;
    this.steps = 1;
    this.t = 0;
    this.timer = null;
    this.reducedMotion = reducedMotion;
    this.play = el('button.cs-btn.cs-primary', {
      id: `${prefix}-play`, type: 'button', 'aria-label': `Play ${label}`, onclick: () => this.toggle(),
    }, '▶ Play');
    this.back = el('button.cs-btn', { id: `${prefix}-back`, type: 'button', 'aria-label': 'Step back', onclick: () => this.go(this.t - 1) }, '◀');
    this.fwd = el('button.cs-btn', { id: `${prefix}-fwd`, type: 'button', 'aria-label': 'Step forward', onclick: () => this.go(this.t + 1) }, '▶');
    this.scrub = el('input.cs-scrub', {
      id: `${prefix}-scrub`, type: 'range', min: 0, max: 0, value: 0, 'aria-label': `${label}: step`,
      oninput: () => { this.pause(); this.go(Number(this.scrub.value)); },
    });
    this.speed = el('select', { id: `${prefix}-speed`, 'aria-label': 'Speed (steps per second)', onchange: () => this.notify?.() },
      SPEEDS.map(([name, v], i) => el('option', { value: v, selected: i === 2, 'data-name': name }, speedLabel(name))));
    this.label = el('output.cs-step', { id: `${prefix}-step`, 'aria-live': 'off' });
    this.node = el('div.cs-player', { role: 'group', 'aria-label': `${label} controls` },
      this.back, this.play, this.fwd, this.scrub, this.label, el('label.cs-inline', {}, 'speed ', this.speed),
      el('span.cs-keys', { 'aria-hidden': 'true' }, 'keys: space ▶/❚❚, ← → step'));
    container.append(this.node);
  }

  /** The speed's name as links keep it ('0.5', '1', '2', '4', 'max'). */
  get speedName() { return this.speed.selectedOptions[0]?.dataset.name ?? '2'; }

  set speedName(name) {
    const o = [...this.speed.options].find((x) => x.dataset.name === name);
    if (o) this.speed.value = o.value;
  }

  setSteps(n, t = this.t) {
    this.steps = Math.max(1, n);
    this.scrub.max = String(this.steps - 1);
    this.go(t, true);
  }

  go(t, force = false) {
    const next = Math.max(0, Math.min(this.steps - 1, t));
    if (next === this.t && !force) return;
    this.t = next;
    this.scrub.value = String(next);
    this.label.value = `step ${next + 1} / ${this.steps}`;
    this.label.dataset.step = String(next);
    this.onStep(next);
  }

  get playing() { return this.timer !== null; }

  /**
   * Tells the router the state moved: at once when paused, at most every half second while
   * playing (Chromium throttles pages that rewrite their URL hundreds of times a second).
   */
  changed(notify) {
    this.notify = notify;
    if (!this.playing) { notify(); return; }
    if (this.pending) return;
    this.pending = setTimeout(() => { this.pending = null; notify(); }, 500);
  }

  toggle() { if (this.playing) this.pause(); else this.start(); }

  start() {
    if (this.playing) return;
    if (this.t >= this.steps - 1) this.go(0);
    this.play.textContent = '❚❚ Pause';
    this.play.setAttribute('aria-label', 'Pause');
    this.play.setAttribute('aria-pressed', 'true');
    let last = performance.now();
    let acc = 0;
    const tick = (now) => {
      if (!this.playing) return;
      acc += ((now - last) / 1000) * Number(this.speed.value);
      last = now;
      const n = Math.floor(acc);
      if (n > 0) {
        acc -= n;
        this.go(this.t + n);
        if (this.t >= this.steps - 1) { this.pause(); return; }
      }
      this.timer = requestAnimationFrame(tick);
    };
    this.timer = requestAnimationFrame(tick);
  }

  pause() {
    if (this.timer !== null) cancelAnimationFrame(this.timer);
    const was = this.timer !== null;
    this.timer = null;
    if (was && this.notify) this.notify();
    this.play.textContent = '▶ Play';
    this.play.setAttribute('aria-label', 'Play');
    this.play.setAttribute('aria-pressed', 'false');
  }

  /** Space toggles, ←/→ step. */
  key(e) {
    if (e.key === ' ') { this.toggle(); return true; }
    if (e.key === 'ArrowLeft') { this.pause(); this.go(this.t - 1); return true; }
    if (e.key === 'ArrowRight') { this.pause(); this.go(this.t + 1); return true; }
    return false;
  }
}

/**
 * A labelled number input that takes whole numbers from its current `min` to `max` (set from
 * the wasm ranges). Anything else is never taken silently: a blank or a non-number is refused
 * (the value stays), a fraction or a value outside the range becomes the nearest whole number in
 * range, and in every case the note under the controls says what was typed, the range the
 * stepper really has and what it is now. `onchange(value, want)`: `value` is what the stepper
 * took; for a stepper with `says: false`, `want` is what was typed when it is the first whole
 * number past the range and the value stayed (so the scene can ask wasm which rule sets the
 * range), and `value` otherwise (the note says it all; a scene's “stays” is then never said of
 * a value that moved, nor a limit wider than the stepper's named). The note goes away once
 * this setting changes again (typed, stepped or set).
 */
export function numberInput(id, label, { min = 0, max = 9, value = 0, onchange, says = true }) {
  const input = el('input', {
    id, type: 'number', min, max, value, step: 1, inputmode: 'numeric', 'aria-label': label,
    onchange: () => {
      const typed = input.value.trim();
      const old = input.dataset.last ?? String(value);
      const n = Number(typed);
      if (typed === '' || !Number.isFinite(n)) {
        // An <input type=number> holding text the browser cannot read reports '' (badInput).
        const what = input.validity.badInput ? 'what was typed is not a number' : typed === '' ? 'no number was typed' : `“${typed}” is not a number`;
        input.value = old;
        refusal(input, `${label}: ${what}, so it stays ${old}.`);
        return;
      }
      const lo = Number(input.min);
      const hi = Number(input.max);
      const whole = Number.isInteger(n);
      const v = Math.min(hi, Math.max(lo, Math.round(n)));
      input.value = String(v);
      input.dataset.last = String(v);
      if (whole && n >= lo && n <= hi) {
        clearRefusal(input);
        onchange(v, v);
        return;
      }
      refusal(input, `${label} ${typed} is not possible here: ${whole ? '' : 'a whole number, '}from ${lo} to ${hi}, so it is ${v}.`);
      // The first whole number past the range, with the value unmoved: the scene may name the
      // rule that sets the range (wasm's reason for that number). Farther out, wasm would name
      // a wider limit than the stepper's (“at most 96”), and the note above says it all.
      const want = String(v) === old && (n === hi + 1 || n === lo - 1) ? n : v;
      onchange(v, says ? v : want);
    },
  });
  return input;
}

/**
 * The note under a group of controls saying why a typed value was refused or adjusted (one per
 * `.cs-controls`, or per field when a control sits alone; its space reserved so nothing moves).
 * It names the control it explains (`data-for`) and goes away once that control changes.
 */
export function refusal(input, text) {
  const group = input.closest('.cs-controls') ?? input.closest('.cs-field') ?? input.parentElement;
  if (!group) return;
  let note = group.nextElementSibling?.classList.contains('cs-refused') ? group.nextElementSibling : null;
  if (!note) {
    note = el('p.cs-note.cs-refused', { role: 'status', 'aria-live': 'polite' });
    group.after(note);
  }
  note.textContent = text;
  note.dataset.for = input.id;
}

/** Clears the refusal note when it explains `input` (the setting it explains has changed). */
export function clearRefusal(input) {
  const group = input.closest('.cs-controls') ?? input.closest('.cs-field') ?? input.parentElement;
  const note = group?.nextElementSibling;
  if (note?.classList.contains('cs-refused') && note.dataset.for === input.id) {
    note.textContent = '';
    delete note.dataset.for;
  }
}

/** A labelled select from [value, text] pairs. */
export function select(id, label, options, value, onchange) {
  const s = el('select', { id, 'aria-label': label, onchange: () => onchange(s.value) },
    options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)));
  return s;
}

/** A field: visible label text above its control(s). */
export function field(text, ...controls) {
  return el('div.cs-field', {}, el('span.cs-field-label', { 'aria-hidden': 'true' }, text), el('div.cs-field-row', {}, ...controls));
}

/** Parses "a,b,c" into exactly n whole numbers within [lo, hi], or null. */
export function parseInts(s, n, lo, hi) {
  if (typeof s !== 'string') return null;
  const v = s.split(',').map(Number);
  if (v.length !== n || v.some((x) => !Number.isInteger(x) || x < lo || x > hi)) return null;
  return v;
}
