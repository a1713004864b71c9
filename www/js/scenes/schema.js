// A scene's settings declared once: each with its URL key, type, default and valid values.
// `readLink(schema, params)` reads a URL hash's settings: a valid value is taken as it is, an
// invalid one becomes the nearest valid setting and a note saying so (never a silent rewrite);
// `writeLink(schema, values)` writes them back. The ranges here are the widest a scene shows;
// the settings that depend on each other (stride, padding, dilation against the kernel) are
// then checked by wasm (`trace*Settle`), which names the rule in the scene's own note.

/** A whole number in [min, max]. */
export const int = (key, label, min, max, def) => ({ key, label, kind: 'int', min, max, def });
/** `n` whole numbers in [min, max], written "a,b,…". */
export const ints = (key, label, n, min, max, def) => ({ key, label, kind: 'ints', n, min, max, def });
/** One of `options` ([value, text] pairs or values). */
export const oneOf = (key, label, options, def) => ({ key, label, kind: 'enum', options: options.map((o) => (Array.isArray(o) ? o[0] : o)), def });
/** A flag, written 1 or 0. */
export const flag = (key, label, def) => ({ key, label, kind: 'flag', def });
/** A string that `parse` turns into a value, or null when it is not valid. */
export const custom = (key, label, parse, write, def, rule) => ({ key, label, kind: 'custom', parse, write, def, rule });

const near = (v, min, max) => Math.min(max, Math.max(min, Math.round(v)));

/** One setting from its URL text: { value, note } (note null when the text was valid). */
function readOne(f, text) {
  const bad = (value, why) => ({ value, note: `${f.label} “${text}” ${why}: opened with ${show(f, value)}.` });
  switch (f.kind) {
    case 'int': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) return bad(f.def, 'is not a number');
      if (Number.isInteger(v) && v >= f.min && v <= f.max) return { value: v, note: null };
      return bad(near(v, f.min, f.max), `is not a whole number from ${f.min} to ${f.max}`);
    }
    case 'ints': {
      const parts = text.split(',').map(Number);
      if (parts.length !== f.n || parts.some((v) => !Number.isFinite(v))) return bad(f.def, `is not ${f.n} numbers`);
      if (parts.every((v) => Number.isInteger(v) && v >= f.min && v <= f.max)) return { value: parts, note: null };
      return bad(parts.map((v) => near(v, f.min, f.max)), `has values outside ${f.min} to ${f.max}`);
    }
    case 'enum':
      return f.options.includes(text) ? { value: text, note: null } : bad(f.def, `is not one of ${f.options.join(', ')}`);
    case 'flag':
      return text === '1' || text === '0' ? { value: text === '1', note: null } : bad(f.def, 'is not 1 or 0');
    default: {
      const v = f.parse(text);
      return v !== null && v !== undefined ? { value: v, note: null } : bad(f.def, f.rule);
    }
  }
}

function show(f, v) {
  if (f.kind === 'ints') return v.join(', ');
  if (f.kind === 'flag') return v ? 'on' : 'off';
  if (f.kind === 'custom') return 'the default';
  return String(v);
}

/** The settings a link names: { values (only the keys present), notes }. */
export function readLink(schema, params) {
  const values = {};
  const notes = [];
  for (const f of schema) {
    if (!(f.key in params)) continue;
    const { value, note } = readOne(f, String(params[f.key]));
    values[f.key] = value;
    if (note) notes.push(note);
  }
  const known = new Set(schema.map((f) => f.key));
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  if (unknown.length) notes.push(`This scene has no setting ${unknown.map((k) => `“${k}”`).join(', ')}; ignored.`);
  return { values, notes };
}

/** The URL settings of `values` (every key of the schema that has a value). */
export function writeLink(schema, values) {
  const out = {};
  for (const f of schema) {
    const v = values[f.key];
    if (v === undefined || v === null) continue;
    if (f.kind === 'ints') out[f.key] = v.join(',');
    else if (f.kind === 'flag') out[f.key] = v ? '1' : '0';
    else if (f.kind === 'custom') out[f.key] = f.write(v);
    else out[f.key] = String(v);
  }
  return out;
}

/** The player speeds (steps per second) a link may name. */
export const SPEEDS = [['0.5', 1.5], ['1', 4], ['2', 10], ['4', 30], ['max', 120]];
export const speed = (def = '2') => oneOf('sp', 'Speed', SPEEDS.map(([n]) => n), def);
