// @ts-check
// Building the page without HTML strings (nothing is parsed as markup, so no API text can inject any) and rendering
// tables whose rows are kept by key and updated in place.

/**
 * Makes an element: h('a', { href: '#/nodes', class: 'link', on: { click } }, 'text', child).
 * Props: class, text, on (listeners), dataset, and anything else as an attribute (false/null/undefined: left out).
 * @param {string} tag
 * @param {Record<string, any> | null} [props]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = String(value);
    else if (name === 'on') for (const [event, listener] of Object.entries(value)) element.addEventListener(event, listener);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name in element && typeof value !== 'string') /** @type {any} */ (element)[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** @param {Element} parent @param {Array<Node | string | number | null | undefined | false>} children */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
  return parent;
}

/** Replaces an element's children. @param {Element} parent @param {...(Node | string | null | undefined | false)} children */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A status badge: alive, failed, passing, critical... get their colour from the stylesheet. @param {string} status */
export function badge(status) {
  return h('span', { class: `badge badge-${status}`, text: status });
}

/** An error message box for a view (not the console: a failing call is something to show, not a bug). @param {unknown} error */
export function errorBox(error) {
  const message = error instanceof Error ? error.message : String(error);
  return h('div', { class: 'error', role: 'alert', text: message });
}

/**
 * @template T
 * @typedef {{ title: string, cell: (row: T) => Node | string | number | null | undefined, class?: string }} Column
 */

/** Rows built before a long table's first paint; the rest follow in the next frame (docs/dashboard.md, "Performance"). */
const FIRST_ROWS = 100;

/**
 * A table kept by row key: update() adds, changes and removes rows without rebuilding the others, so a live view can
 * call it on every change. rowProps gives a row's class and data attributes (tests find rows by them). With stable, a
 * row whose item is the same object as at the last update is left as it is (the view makes a new object for a change).
 * A first update of more than FIRST_ROWS rows shows those at once and the rest a frame later, so a long list paints
 * its first screen without waiting for the layout of all of it.
 * @template T
 * @param {{ columns: Column<T>[], key: (row: T) => string, rowProps?: (row: T) => { class?: string, dataset?: Record<string, string> }, empty?: string, stable?: boolean }} spec
 */
export function keyedTable(spec) {
  const body = h('tbody');
  const empty = h('p', { class: 'empty', text: spec.empty ?? 'Nothing to show.' });
  const table = h('table', { class: 'grid' },
    h('thead', null, h('tr', null, ...spec.columns.map((c) => h('th', { class: c.class, text: c.title })))),
    body);
  const element = h('div', { class: 'table-wrap' }, table, empty);
  /** @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  /** @type {Map<string, T>} */
  const shown = new Map();
  /** @type {T[] | null} */
  let rest = null;

  /** @param {T[]} items rows in display order */
  function update(items) {
    if (rows.size === 0 && rest === null && items.length > FIRST_ROWS) {
      rest = items;
      apply(items.slice(0, FIRST_ROWS));
      // Two frames: the first paints the rows shown; the rest is built after it.
      requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => {
        if (rest) apply(rest);
        rest = null;
      })));
      return;
    }
    // A later update replaces what was still to be shown.
    if (rest) rest = items;
    else apply(items);
  }

  /** @param {T[]} items */
  function apply(items) {
    const seen = new Set();
    let previous = null;
    for (const item of items) {
      const key = spec.key(item);
      seen.add(key);
      let tr = rows.get(key);
      if (!tr) {
        tr = /** @type {HTMLTableRowElement} */ (h('tr'));
        rows.set(key, tr);
      }
      if (!spec.stable || shown.get(key) !== item) {
        shown.set(key, item);
        const props = spec.rowProps?.(item) ?? {};
        tr.className = props.class ?? '';
        for (const [name, value] of Object.entries(props.dataset ?? {})) tr.dataset[name] = value;
        tr.replaceChildren(...spec.columns.map((c) => {
          const value = c.cell(item);
          return append(h('td', { class: c.class }), [value === undefined || value === null ? '' : value]);
        }));
      }
      // Keep the given order while moving as few rows as possible.
      const expected = previous ? previous.nextSibling : body.firstChild;
      if (expected !== tr) body.insertBefore(tr, expected);
      previous = tr;
    }
    for (const [key, tr] of rows) {
      if (!seen.has(key)) {
        tr.remove();
        rows.delete(key);
        shown.delete(key);
      }
    }
    empty.hidden = items.length !== 0;
    table.hidden = items.length === 0;
  }

  update([]);
  return { element, update };
}

/** "3 s", "5 min", "2 h", "4 d" since a time. @param {string | number | Date | null | undefined} at */
export function age(at) {
  if (!at) return '';
  const seconds = Math.max(0, Math.round((Date.now() - new Date(at).getTime()) / 1000));
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

// toLocaleString with options builds a formatter on every call (about 1 ms each): one, made once, formats every time.
const localTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit', hour12: false });

/** A local date and time to the second. @param {string | number | Date | null | undefined} at */
export function time(at) {
  if (!at) return '';
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? String(at) : localTime.format(date);
}

/** Microseconds as "850 µs" or "12.3 ms". @param {number} micros */
export function micros(micros) {
  if (!Number.isFinite(micros)) return '';
  return micros < 1000 ? `${Math.round(micros)} µs` : `${(micros / 1000).toFixed(micros < 100000 ? 1 : 0)} ms`;
}

/** A number with at most one decimal. @param {number} value */
export function rate(value) {
  if (!Number.isFinite(value)) return '';
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
}

/** Tags as "k=v" chips. @param {Record<string, string> | null | undefined} tags */
export function tagList(tags) {
  const list = h('span', { class: 'tags' });
  for (const [key, value] of Object.entries(tags ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    list.append(h('span', { class: 'tag', text: `${key}=${value}` }));
  }
  return list;
}
