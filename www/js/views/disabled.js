// Disabled controls that look disabled and say why.
//
//   import { setDisabled } from '../views/disabled.js';
//   setDisabled(button, 'train first: press Start or One batch');   // disabled, with its reason
//   setDisabled(button, null);                                       // enabled again
//
// A control disabled this way keeps its place in the tab order (it gets
// `aria-disabled="true"`, not the `disabled` attribute, which would drop it from the keyboard's
// reach), so a keyboard user can land on it and hear why. It looks disabled through the CSS of
// style.css (`[aria-disabled="true"]` and `:disabled`: greyed, `cursor: not-allowed`), and the
// reason is a visible tip that shows while the control is hovered or focused (`.disabled-why`,
// `role="tooltip"`, id `<control id>-why`), which is also the control's accessible
// description (`aria-describedby`). While disabled, a click, a key that would change it (space,
// enter, arrows; Tab still moves on), typing and pasting are stopped before any of the page's
// own listeners see them, so `onclick` handlers need no check. Text fields also become
// `readOnly`. `isDisabled(control)` tells whether a control is disabled this way (or natively).
//
// Stable hooks: `[aria-disabled="true"]` on the control, `data-disabled-why` (the reason) on it,
// `#<id>-why.disabled-why` for the tip (a control without an id gets one).

let serial = 0;
let installed = false;

/** The tip of a control (made on first use, kept in <body> so it never moves the layout). */
function tipOf(control) {
  if (!control.id) control.id = `cs-disabled-${++serial}`;
  const id = `${control.id}-why`;
  let tip = document.getElementById(id);
  if (!tip) {
    tip = document.createElement('span');
    tip.id = id;
    tip.className = 'disabled-why';
    tip.setAttribute('role', 'tooltip');
    tip.hidden = true;
    document.body.append(tip);
  }
  return tip;
}

/**
 * Disables `control` with `reason` (a short sentence: "Sobel is 3×3 only", "train first"), or
 * enables it again when `reason` is null, '' or false.
 */
export function setDisabled(control, reason) {
  install();
  if (control.disabled) control.disabled = false;
  // Unchanged: nothing to write (a scene may call this on every update).
  if ((reason || null) === (control.getAttribute('aria-disabled') === 'true' ? control.dataset.disabledWhy : null)) return;
  if (reason) {
    const tip = tipOf(control);
    tip.textContent = reason;
    control.setAttribute('aria-disabled', 'true');
    control.dataset.disabledWhy = reason;
    const ids = new Set((control.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean));
    ids.add(tip.id);
    control.setAttribute('aria-describedby', [...ids].join(' '));
    if (control instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'file'].includes(control.type)) control.readOnly = true;
    if (document.activeElement === control || control.matches(':hover')) show(control);
  } else {
    if (control.getAttribute('aria-disabled') !== 'true') return;
    control.removeAttribute('aria-disabled');
    delete control.dataset.disabledWhy;
    const tip = document.getElementById(`${control.id}-why`);
    if (tip) {
      tip.hidden = true;
      const ids = (control.getAttribute('aria-describedby') ?? '').split(/\s+/).filter((i) => i && i !== tip.id);
      if (ids.length) control.setAttribute('aria-describedby', ids.join(' '));
      else control.removeAttribute('aria-describedby');
    }
    if (control instanceof HTMLInputElement) control.readOnly = false;
  }
}

/** True when `control` is disabled, by setDisabled or natively. */
export function isDisabled(control) {
  return control.disabled === true || control.getAttribute('aria-disabled') === 'true';
}

const disabledOf = (target) => (target instanceof Element ? target.closest('[aria-disabled="true"][data-disabled-why]') : null);

function show(control) {
  const tip = document.getElementById(`${control.id}-why`);
  if (!tip || control.getAttribute('aria-disabled') !== 'true') return;
  tip.hidden = false;
  const r = control.getBoundingClientRect();
  const w = tip.offsetWidth;
  const left = Math.max(4, Math.min(window.innerWidth - w - 4, r.left));
  tip.style.left = `${left}px`;
  tip.style.top = `${r.bottom + 6}px`;
}

function hide(control) {
  const tip = control && document.getElementById(`${control.id}-why`);
  if (tip) tip.hidden = true;
}

/** After a scroll or a resize: every tip shown follows its control. */
const follow = () => {
  for (const t of document.querySelectorAll('.disabled-why:not([hidden])')) {
    const c = document.getElementById(t.id.slice(0, -'-why'.length));
    if (c) show(c);
    else t.hidden = true;
  }
};

/** One set of listeners for the page, in the capture phase of the document (before any other). */
function install() {
  if (installed) return;
  installed = true;
  const stop = (e) => {
    if (!disabledOf(e.target)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
  };
  for (const type of ['click', 'dblclick', 'mousedown', 'pointerdown', 'beforeinput', 'paste', 'drop']) document.addEventListener(type, stop, true);
  document.addEventListener('keydown', (e) => {
    const c = disabledOf(e.target);
    if (!c || e.key === 'Tab' || e.key === 'Shift' || e.key === 'Escape' || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    e.stopImmediatePropagation();
  }, true);
  document.addEventListener('pointerover', (e) => { const c = disabledOf(e.target); if (c) show(c); }, true);
  document.addEventListener('pointerout', (e) => {
    const c = disabledOf(e.target);
    if (c && !c.contains(e.relatedTarget) && document.activeElement !== c) hide(c);
  }, true);
  document.addEventListener('focusin', (e) => { const c = disabledOf(e.target); if (c) show(c); }, true);
  document.addEventListener('focusout', (e) => { const c = disabledOf(e.target); if (c && !c.matches(':hover')) hide(c); }, true);
  window.addEventListener('scroll', follow, { passive: true, capture: true });
  window.addEventListener('resize', follow, { passive: true });
  window.addEventListener('hashchange', () => { for (const t of document.querySelectorAll('.disabled-why')) t.hidden = true; });
}
