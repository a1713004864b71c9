// The page's one visual language for numbers: one diverging scale for signed values (blue for
// negative, white at 0, red for positive: the same colour for the same sign and size in every
// scene) and one sequential scale for non-negative maps (paper to ink). A legend with the
// numbers at its ends goes with every heatmap. Values come from wasm; this only maps them.

const NEG = [38, 98, 206];
const POS = [214, 48, 39];
const INK = [22, 24, 29];

const mix = (a, b, f) => Math.round(a + (b - a) * f);

/** [r, g, b] of `v` on a scale whose ends are ±`scale` (signed) or 0 … `scale`. */
export function colour(v, scale, signed) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
  if (!signed) {
    const u = Math.max(0, t);
    return [mix(255, INK[0], u), mix(255, INK[1], u), mix(255, INK[2], u)];
  }
  const c = t >= 0 ? POS : NEG;
  const u = Math.abs(t);
  return [mix(255, c[0], u), mix(255, c[1], u), mix(255, c[2], u)];
}

/**
 * True when text on this colour should be white (else black): the one of the two with the
 * higher WCAG contrast. Below a relative luminance of 0.179 white wins; either way the
 * contrast is at least 4.58:1 (AA for small text), which no grey text can promise.
 */
export function dark([r, g, b]) {
  const lin = (c) => { const v = c / 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) < 0.179;
}

/** WCAG relative luminance of an sRGB colour. */
function luminance([r, g, b]) {
  const lin = (v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/**
 * The text colour for numbers written on a cell of colour `rgb`: white or black (`ink`),
 * whichever contrasts more (WCAG ratio): one of the two is always at least 4.58 : 1.
 */
export function inkOn(rgb, ink = [0, 0, 0]) {
  const l = luminance(rgb);
  const onWhite = 1.05 / (l + 0.05);
  const onInk = (l + 0.05) / (luminance(ink) + 0.05);
  return onWhite > onInk ? '#fff' : `rgb(${ink.join(',')})`;
}

/** The CSS gradient of a scale, for legends. */
export function gradient(signed) {
  const css = (c) => `rgb(${c.join(',')})`;
  return signed
    ? `linear-gradient(to right, ${css(NEG)}, #fff, ${css(POS)})`
    : `linear-gradient(to right, #fff, ${css(INK)})`;
}

/** A number for a legend's end: 3 significant digits, − for minus. */
export function endNumber(v) {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  const s = a === 0 ? '0' : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
  return s.replace('-', '−');
}

/**
 * A legend: the gradient with the scale's end numbers (−scale … 0 … +scale, or 0 … scale).
 * `update(scale)` changes the numbers; its size never changes, so nothing moves.
 */
export class Legend {
  constructor(container, { signed, label = '', compact = false } = {}) {
    this.signed = signed;
    this.compact = compact;
    this.node = document.createElement('div');
    // `compact`: no middle 0; marked so a narrow place can lay out the ends as it needs (Draw's
    // narrow layer blocks put −s and s on two rows).
    this.node.className = `legend ${signed ? 'diverging' : 'sequential'}${compact ? ' compact' : ''}`;
    this.node.setAttribute('role', 'img');
    this.bar = document.createElement('span');
    this.bar.className = 'legend-bar';
    this.bar.style.background = gradient(signed);
    this.lo = document.createElement('span');
    this.lo.className = 'legend-lo';
    this.mid = document.createElement('span');
    this.mid.className = 'legend-mid';
    this.hi = document.createElement('span');
    this.hi.className = 'legend-hi';
    this.node.append(this.bar, this.lo, this.mid, this.hi);
    this.label = label;
    container.append(this.node);
    this.update(1);
  }

  /** Switches between the diverging and the sequential scale (same size: nothing moves). */
  setSigned(signed) {
    if (signed === this.signed) return;
    this.signed = signed;
    this.node.classList.toggle('diverging', signed);
    this.node.classList.toggle('sequential', !signed);
    this.bar.style.background = gradient(signed);
  }

  update(scale) {
    const s = scale > 0 ? scale : 0;
    this.lo.textContent = this.signed ? endNumber(-s) : '0';
    this.mid.textContent = this.signed && !this.compact ? '0' : '';
    this.hi.textContent = endNumber(s);
    this.node.dataset.scale = String(s);
    this.node.setAttribute('aria-label', `${this.label ? `${this.label}: ` : ''}colour scale from ${this.lo.textContent} to ${this.hi.textContent}${this.signed ? ', white is 0, blue negative, red positive' : ', white is 0'}`);
  }
}
