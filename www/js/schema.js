// A scene's settings declared once: each with its name, its URL key, type, default, valid
// values and, when the person can change it, its control (`ui`: id, label, group, kind). The
// name is the setting's one name everywhere past the URL: the scene's state property, the key of
// its control and of the values a link gives, and the wasm option it goes to (`stride`,
// `outputPadding`); the URL key is only the link's short spelling (`s`, `op`). The same list
// builds the state's defaults (`defaultsOf`), the controls (`buildControls`), reads a URL hash
// (`readLink`: a valid value is taken as it is, an invalid one becomes the nearest valid setting
// and a note saying so, never a silent rewrite) and writes it back (`writeLink`). The size ranges come from wasm (`traceControls`);
// the settings that depend on each other (stride, padding, dilation against the kernel) are
// then checked by wasm (`trace*Settle` / `trace*Ranges`), which names the rule in the scene's
// own note.
import { el } from './dom.js';
import { numberInput, select, field, clearRefusal } from './stepper/player.js';

/**
 * `key`: the URL key, or `'name=key'` when the setting's name is longer than its URL key
 * (`'stride=s'`); a setting whose URL key is its name gives just that.
 * `ui` (optional, last argument of each kind): `{ id, label, group, kind, says, ids, labels,
 * place }`. `id` / `label`: the control's element id and accessible name (default: the
 * setting's label); `group`: the visible label of the field it sits in (settings with the same
 * group share a field; default: the label); `kind`: 'stepper' (default for numbers), 'number'
 * (a plain box: what is typed goes to wasm, which names the rule), 'slider', 'select' (default
 * for a choice), 'check' (default for a flag); `ids` / `labels` for the parts of an `ints`;
 * `says: false` when the scene names the rule itself; `place: 'own'` when the scene puts the
 * control in its own spot (it is still built here).
 */
const mk = ({ key: spelt, ...f }, ui) => {
  const [name, key] = spelt.includes('=') ? spelt.split('=') : [spelt, spelt];
  return ui ? { name, key, ...f, ui } : { name, key, ...f };
};

/** A whole number in [min, max]. */
export const int = (key, label, min, max, def, ui) => mk({ key, label, kind: 'int', min, max, def }, ui);
/** `n` whole numbers in [min, max], written "a,b,…". */
export const ints = (key, label, n, min, max, def, ui) => mk({ key, label, kind: 'ints', n, min, max, def }, ui);
/** A number above `above` and at most `max` (a learning rate). */
export const num = (key, label, above, max, def, ui) => mk({ key, label, kind: 'num', above, max, def }, ui);
/** One of `options` ([value, text] pairs or values). */
export const oneOf = (key, label, options, def, ui) => mk({
  key, label, kind: 'enum', def,
  options: options.map((o) => (Array.isArray(o) ? o[0] : o)),
  texts: options.map((o) => (Array.isArray(o) ? o[1] : String(o))),
}, ui);
/** A flag, written 1 or 0. */
export const flag = (key, label, def, ui) => mk({ key, label, kind: 'flag', def }, ui);
/**
 * A string that `parse` turns into a value, or null when it is not valid (`rule` says what it
 * must be; `shown` names what an invalid one opens with).
 */
export const custom = (key, label, parse, write, def, rule, shown = 'the default') => mk({ key, label, kind: 'custom', parse, write, def, rule, shown });

/** The setting named `name` in `schema`. */
export const fieldOf = (schema, name) => schema.find((f) => f.name === name);

/**
 * The defaults of `schema`'s settings, by name: a scene's starting state (`except`: the names of
 * settings kept elsewhere, such as the drawing and the player's speed).
 */
export const defaultsOf = (schema, except = []) => Object.fromEntries(schema
  .filter((f) => !except.includes(f.name))
  .map((f) => [f.name, structuredClone(f.def)]));

/** Sets the valid range of a number setting (from wasm), for links and its control alike. */
export function setRange(schema, name, [min, max]) {
  const f = fieldOf(schema, name);
  f.min = min;
  f.max = max;
  if (f.kind === 'int') f.def = Math.min(max, Math.max(min, f.def));
  if (f.kind === 'ints') f.def = f.def.map((v) => Math.min(max, Math.max(min, v)));
}

const near = (v, min, max) => Math.min(max, Math.max(min, Math.round(v)));

/** One setting from its URL text: { value, note } (note null when the text was valid). */
function readOne(f, text) {
  const quoted = text.length > 24 ? `${text.slice(0, 24)}…` : text;
  const bad = (value, why) => ({ value, note: `${f.label} “${quoted}” ${why}: opened with ${show(f, value)}.` });
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
    case 'num': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) return bad(f.def, 'is not a number');
      if (v > f.above && v <= f.max) return { value: v, note: null };
      return bad(v > f.max ? f.max : f.def, `is not a number above ${f.above} and at most ${f.max}`);
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
  if (f.kind === 'custom') return f.shown;
  return String(v);
}

/**
 * The settings a link names: { values (by name, only those present), notes, noteOf }.
 * `noteOf[name]` is the note about that setting (the unknown keys' under ''), so a scene can
 * drop a note once the setting it explains changes.
 */
export function readLink(schema, params) {
  const values = {};
  const notes = [];
  const noteOf = {};
  for (const f of schema) {
    if (!(f.key in params)) continue;
    const { value, note } = readOne(f, String(params[f.key]));
    values[f.name] = value;
    if (note) { notes.push(note); noteOf[f.name] = note; }
  }
  const known = new Set(schema.map((f) => f.key));
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  if (unknown.length) {
    const note = `This scene has no setting ${unknown.map((k) => `“${k}”`).join(', ')}; ignored.`;
    notes.push(note);
    noteOf[''] = note;
  }
  return { values, notes, noteOf };
}

/**
 * The URL settings of `values` (by name: every setting of the schema that has a value there;
 * null or undefined leaves it out of the link), under their URL keys.
 */
export function writeLink(schema, values) {
  const out = {};
  for (const f of schema) {
    const v = values[f.name];
    if (v === undefined || v === null) continue;
    if (f.kind === 'ints') out[f.key] = v.join(',');
    else if (f.kind === 'flag') out[f.key] = v ? '1' : '0';
    else if (f.kind === 'custom') out[f.key] = f.write(v);
    else out[f.key] = String(v);
  }
  return out;
}

/**
 * The `ui` of a (rows, columns) pair: ids `<scene>-<id>-h` / `-w`, labels "Stride rows" /
 * "Stride columns", one field "Stride (rows, cols)"; the scene names the rule itself.
 */
export const pairUi = (scene, id, label) => ({
  ids: ['h', 'w'].map((a) => `${scene}-${id}-${a}`),
  labels: ['rows', 'columns'].map((a) => `${label} ${a}`),
  group: `${label} (rows, cols)`,
  says: false,
});

/** The `ui` of a padding's four sides: ids `<scene>-pad-top` …, one field. */
export const paddingUi = (scene) => {
  const sides = ['top', 'left', 'bottom', 'right'];
  return {
    ids: sides.map((a) => `${scene}-pad-${a}`),
    labels: sides.map((a) => `Padding ${a}`),
    group: `Padding (${sides.join(', ')})`,
    says: false,
  };
};

/** The player speeds (steps per second) a link may name. */
export const SPEEDS = [['0.5', 1.5], ['1', 4], ['2', 10], ['4', 30], ['max', 120]];
/** A speed's visible label: '0.5×' … '4×', and 'max' (as fast as the page draws). */
export const speedLabel = (name) => (name === 'max' ? 'max' : `${name}×`);
export const speed = (def = '2') => oneOf('speed=sp', 'Speed', SPEEDS.map(([n]) => n), def);

/**
 * One control per setting that has a `ui`, built from the schema: `{ controls, fields }`, where
 * `controls[name]` is `{ f, input, inputs, set(value), range(i, [min, max]) }` and `fields` are
 * the labelled fields (settings sharing a `group` in one), in schema order, for the scene to
 * append (those placed `own` are left out). `onchange(name, value, want, part)`: `value` is what
 * the control took, `want` what was typed (they differ when a stepper adjusted it).
 */
export function buildControls(schema, onchange, { wrap = (name, nodes) => field(name, ...nodes) } = {}) {
  const controls = {};
  const groups = [];
  for (const f of schema) {
    if (!f.ui) continue;
    const c = control(f, (value, want, part) => onchange(f.name, value, want, part));
    controls[f.name] = c;
    if (f.ui.place === 'own') continue;
    const name = f.ui.group ?? f.label;
    const last = groups[groups.length - 1];
    if (last && last.name === name) last.nodes.push(...c.nodes);
    else groups.push({ name, nodes: [...c.nodes], f });
  }
  return { controls, fields: groups.map((g) => wrap(g.name, g.nodes, g.f)) };
}

/**
 * Sets a control's value from the scene (a link, a reset, a rule that moved it); a note that
 * explained the old value goes away once the value really changes.
 */
function put(input, v) {
  if (input.value !== String(v)) clearRefusal(input);
  input.value = String(v);
  input.dataset.last = String(v);
}

function control(f, changed) {
  const ui = f.ui;
  const id = ui.id ?? `set-${f.key}`;
  const label = ui.label ?? f.label;
  const kind = ui.kind ?? { int: 'stepper', ints: 'stepper', num: 'number', enum: 'select', flag: 'check' }[f.kind];
  const says = ui.says ?? true;
  if (f.kind === 'ints') {
    const inputs = Array.from({ length: f.n }, (_, i) => numberInput(ui.ids[i], ui.labels[i], {
      min: f.min, max: f.max, value: f.def[i], says, onchange: (v, want) => changed(v, want, i),
    }));
    return {
      f, inputs, nodes: inputs, input: inputs[0],
      set(v) { inputs.forEach((inp, i) => put(inp, v[i])); },
      range(i, [min, max]) { inputs[i].min = String(min); inputs[i].max = String(max); },
    };
  }
  let input;
  if (kind === 'stepper') {
    input = numberInput(id, label, { min: f.min, max: f.max, value: f.def, says, onchange: (v, want) => changed(v, want) });
  } else if (kind === 'slider') {
    input = el('input.cs-scrub', {
      id, type: 'range', min: f.min, max: f.max, value: f.def, step: 1, 'aria-label': label,
      oninput: () => changed(Number(input.value), Number(input.value)),
    });
  } else if (kind === 'number') {
    // What is typed goes on as it is: wasm checks it and names the rule.
    input = el('input', {
      id, type: 'number', step: 'any', min: f.kind === 'num' ? f.above : f.min, max: f.max,
      inputmode: f.kind === 'num' ? 'decimal' : 'numeric', 'aria-label': label,
      onchange: () => changed(input.value.trim(), input.value.trim()),
    });
    if (f.kind === 'int') input.step = '1';
  } else if (kind === 'select' && f.kind === 'int') {
    const whole = Array.from({ length: f.max - f.min + 1 }, (_, i) => String(f.min + i));
    input = select(id, label, whole.map((v) => [v, v]), String(f.def), (v) => changed(Number(v), Number(v)));
  } else if (kind === 'select') {
    input = select(id, label, f.options.map((v, i) => [v, f.texts[i]]), f.def, (v) => changed(v, v));
  } else {
    input = el('input', { id, type: 'checkbox', 'aria-label': ui.ariaLabel ?? null, onchange: () => changed(input.checked, input.checked) });
  }
  return {
    f, input, inputs: [input], nodes: [input],
    set(v) {
      if (kind === 'check') input.checked = !!v;
      else put(input, v);
    },
    range(_i, [min, max]) { input.min = String(min); input.max = String(max); },
  };
}
