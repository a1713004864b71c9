// A roving tabindex: a group of many small controls (a day's 24 hours, 47 bars, a grid's
// pixels) is one tab stop; the arrow keys (and Home / End) move inside it. Only the current
// item has tabindex 0, so Tab leaves the group at once and comes back to where it was.

/**
 * @param items  the group's elements, in reading order
 * @param opts   { cols (items per row: ↑/↓ move by a row; default one row), start (the item
 *               that is the tab stop at first), select(i) (called when the arrows reach item i:
 *               radios select as they move; leave it out when moving only focuses), keys
 *               ('both' | 'row': which arrows it answers) }
 * @returns      { items, current, focus(i), set(i) (makes item i the tab stop, no focus) }
 */
export function roving(items, { cols = items.length, start = 0, select = null } = {}) {
  const r = {
    items,
    current: start,
    set(i) {
      if (i < 0 || i >= items.length) return;
      r.current = i;
      items.forEach((it, j) => { it.tabIndex = j === i ? 0 : -1; });
    },
    focus(i) {
      r.set(i);
      items[i].focus();
    },
  };
  const rows = Math.ceil(items.length / cols);
  items.forEach((it, i) => {
    it.addEventListener('focus', () => r.set(i));
    it.addEventListener('keydown', (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const row = Math.floor(i / cols);
      const col = i % cols;
      let next = null;
      if (e.key === 'ArrowRight') next = col < cols - 1 && i + 1 < items.length ? i + 1 : i;
      else if (e.key === 'ArrowLeft') next = col > 0 ? i - 1 : i;
      else if (e.key === 'ArrowDown' && rows > 1) next = row < rows - 1 && i + cols < items.length ? i + cols : i;
      else if (e.key === 'ArrowUp' && rows > 1) next = row > 0 ? i - cols : i;
      else if (e.key === 'Home') next = 0;
      else if (e.key === 'End') next = items.length - 1;
      if (next === null) return;
      // The arrows are the group's own: the scene's global keys (← → shift) stay out of it.
      e.preventDefault();
      e.stopPropagation();
      r.focus(next);
      select?.(next);
    });
  });
  r.set(start);
  return r;
}
