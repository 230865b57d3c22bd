// @ts-check
// Rules, "if this then that": the list (enabled state, last runs; pushed by GET /v1/rules?follow=true: the rules
// again after each change, and each run as it is recorded and as it ends), enable / disable / delete, and a form to add one
// built from GET /v1/rules/schema: the trigger and action types and the repository are chosen from lists (the
// repositories from GET /v1/repos); names, keys, branch patterns and a deploy's strategy are plain values; one action
// or more, run in order. There is no script field.
import { follow, getJson, sendJson } from '../lib/api.js';
import { badge, errorBox, h, keyedTable, replace, time } from '../lib/dom.js';
import { can } from '../lib/identity.js';

const RUNS_SHOWN = 3;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { signal }) {
  const problem = h('div');
  const admin = can('admin');
  /** @type {Map<string, any[]>} */
  const runs = new Map();
  const table = keyedTable({
    key: (r) => r.id,
    empty: 'No rule yet.',
    rowProps: (r) => ({ class: r.enabled ? '' : 'left', dataset: { rule: r.name, enabled: String(r.enabled) } }),
    columns: [
      { title: 'Rule', cell: (r) => h('span', { title: r.id, text: r.name }) },
      { title: 'State', cell: (r) => badge(r.enabled ? 'enabled' : 'disabled') },
      { title: 'If', cell: (r) => h('span', { class: 'mono', text: describe(r.trigger) }) },
      { title: 'Then', cell: (r) => h('span', { class: 'mono', text: r.actions.map(describe).join('; ') }) },
      { title: 'Last runs', cell: (r) => lastRuns(runs.get(r.id) ?? []) },
      { title: '', cell: (r) => (admin ? h('span', { class: 'actions' },
        h('button', { type: 'button', dataset: { action: r.enabled ? 'disable' : 'enable' }, on: { click: () => act(r, r.enabled ? 'disable' : 'enable') } }, r.enabled ? 'Disable' : 'Enable'),
        h('button', { type: 'button', class: 'danger', dataset: { action: 'delete' }, on: { click: () => act(r, 'delete') } }, 'Delete')) : null) },
    ],
  });
  const live = h('span', { class: 'live', text: 'connecting' });
  root.append(h('div', { class: 'view-head' }, h('h1', null, 'Rules'), live), problem);

  /** @param {unknown} error */
  function show(error) {
    replace(problem, errorBox(error));
  }

  /** @type {any[]} */
  let rules = [];
  /** A rules line: the list as it is now; the runs of rules not seen yet (all of them, on a stream's first line) are read. @param {any[]} list @param {boolean} all */
  async function showRules(list, all) {
    rules = list;
    const unknown = all ? list : list.filter((r) => !runs.has(r.id));
    const answers = await Promise.all(unknown.map((r) => getJson(`/v1/rules/${encodeURIComponent(r.id)}/runs?limit=${RUNS_SHOWN}`, signal).catch(() => [])));
    unknown.forEach((r, i) => merge(r.id, answers[i]));
    for (const id of [...runs.keys()]) if (!list.some((r) => r.id === id)) runs.delete(id);
    table.update(rules);
  }

  /** A run line: it replaces the run of the same id (pending → ended) or is the rule's newest. @param {any} run */
  function showRun(run) {
    merge(run.ruleId, [run]);
    table.update(rules);
  }

  /**
   * Adds runs to a rule's newest RUNS_SHOWN; of two with one id (a read and a push may cross) the ended one wins.
   * @param {string} ruleId @param {any[]} more
   */
  function merge(ruleId, more) {
    /** @type {Map<string, any>} */
    const byId = new Map();
    for (const run of [...(runs.get(ruleId) ?? []), ...more]) {
      const had = byId.get(run.id);
      if (!had || had.outcome === 'pending') byId.set(run.id, run);
    }
    runs.set(ruleId, [...byId.values()].sort((a, b) => String(b.at).localeCompare(String(a.at))).slice(0, RUNS_SHOWN));
  }

  /** @param {any} rule @param {'enable' | 'disable' | 'delete'} what */
  async function act(rule, what) {
    try {
      // The change comes back on the rules stream, as a change made anywhere else does.
      if (what === 'delete') await sendJson('DELETE', `/v1/rules/${encodeURIComponent(rule.id)}`, undefined, signal);
      else await sendJson('POST', `/v1/rules/${encodeURIComponent(rule.id)}/${what}`, undefined, signal);
      replace(problem);
    } catch (error) {
      show(error);
    }
  }

  if (admin) {
    const schema = await getJson('/v1/rules/schema', signal);
    /** @type {string[]} */
    let repos = [];
    if (can('build')) {
      try {
        repos = (await getJson('/v1/repos', signal)).map((/** @type {any} */ r) => r.name);
      } catch {
        // A silo without builds has no repositories: the repository lists stay empty and say so.
      }
    }
    root.append(addForm(schema, repos, signal, async () => replace(problem)));
  }
  root.append(h('h2', null, 'Rules'), table.element);
  // The first line of each (re)opened stream is the whole list: the view is ready once it is shown.
  /** @type {(value?: unknown) => void} */
  let ready = () => {};
  const first = new Promise((resolve) => { ready = resolve; });
  let fresh = true;
  void follow('/v1/rules?follow=true', {
    signal,
    onOpen() {
      fresh = true;
    },
    onLine(line) {
      if (line.type === 'run') showRun(line.run);
      else if (line.type === 'rules') {
        const all = fresh;
        fresh = false;
        void showRules(line.rules, all).then(ready, show);
      }
    },
    onState(state, error) {
      live.className = `live ${state === 'live' ? 'on' : 'off'}`;
      live.textContent = state === 'live' ? 'live' : 'reconnecting';
      if (error) {
        show(error);
        ready();
      }
    },
  });
  await first;
}

/**
 * The add form: a select for the trigger type and one for the action type; each type's fields (from the schema) below
 * it: a repository is chosen from the registered ones, a choice from its values, a deploy target by kind; the rest
 * are values (an event's name, a key, a branch pattern, text that may hold the trigger's placeholders).
 * @param {any} schema @param {string[]} repos @param {AbortSignal} signal @param {() => Promise<void>} added
 */
function addForm(schema, repos, signal, added) {
  const result = h('div');
  const name = /** @type {HTMLInputElement} */ (h('input', { name: 'name', required: true, placeholder: 'notify-deployed', size: 18 }));
  const trigger = typePicker('trigger', schema.triggers, repos);
  // "Then" holds one action or more, run in order; the first one's fields are named action-*, the n-th's action-n-*.
  /** @type {{ picker: ReturnType<typeof typePicker>, element: HTMLElement }[]} */
  const actions = [];
  const actionList = h('div', { class: 'rule-actions' });
  let made = 0;
  function addAction() {
    made++;
    const picker = typePicker(made === 1 ? 'action' : `action-${made}`, schema.actions, repos);
    const entry = { picker, element: h('div', { class: 'rule-action', dataset: { actionIndex: String(made) } }, picker.element) };
    if (made > 1) {
      entry.element.append(h('button', { type: 'button', dataset: { action: 'remove-action' }, on: { click: () => {
        actions.splice(actions.indexOf(entry), 1);
        entry.element.remove();
      } } }, 'Remove'));
    }
    actions.push(entry);
    actionList.append(entry.element);
  }
  addAction();
  const another = h('button', { type: 'button', dataset: { action: 'add-action' }, on: { click: addAction } }, 'Add another action');
  const provides = h('p', { class: 'muted rule-provides' });
  function showProvides() {
    const type = schema.triggers.find((/** @type {any} */ t) => t.type === trigger.select.value);
    provides.textContent = type?.provides.length ? `Text fields of the action may use ${type.provides.map((/** @type {string} */ p) => `{{${p}}}`).join(' ')}` : '';
  }
  trigger.select.addEventListener('change', showProvides);
  showProvides();
  const form = h('form', { class: 'rule-form', dataset: { form: 'rule' }, on: { submit } },
    h('div', { class: 'inline-row' }, h('label', null, 'Name', name)),
    h('fieldset', null, h('legend', { text: 'If' }), trigger.element),
    h('fieldset', null, h('legend', { text: 'Then' }), actionList, another, provides),
    h('button', { type: 'submit', class: 'primary' }, 'Add rule'));

  /** @param {Event} event */
  async function submit(event) {
    event.preventDefault();
    try {
      const rule = await sendJson('POST', '/v1/rules', { name: name.value.trim(), enabled: true, trigger: trigger.value(), actions: actions.map((a) => a.picker.value()) }, signal);
      replace(result, h('div', { class: 'note', dataset: { added: rule.id } }, `Added ${rule.name} as ${rule.id}.`));
      await added();
    } catch (error) {
      replace(result, errorBox(error));
    }
  }

  return h('div', { class: 'panel' }, h('h2', null, 'Add a rule'), form, result);
}

/**
 * A type select and the fields of the chosen type.
 * @param {string} role @param {any[]} types @param {string[]} repos
 */
function typePicker(role, types, repos) {
  const select = /** @type {HTMLSelectElement} */ (h('select', { name: `${role}-type` }, ...types.map((t) => h('option', { value: t.type, text: `${t.type} — ${t.description}` }))));
  const fields = h('div', { class: 'inline-row' });
  /** @type {Map<string, () => any>} */
  let readers = new Map();

  function build() {
    const type = types.find((t) => t.type === select.value);
    readers = new Map();
    replace(fields);
    for (const field of type?.fields ?? []) {
      const made = control(role, field, repos);
      if (!made) continue;
      readers.set(field.name, made.read);
      fields.append(h('label', { title: field.help }, field.name + (field.required ? ' *' : ''), made.element));
    }
  }
  select.addEventListener('change', build);
  build();

  return {
    select,
    element: h('div', null, h('label', null, role === 'trigger' ? 'Trigger' : 'Action', select), fields),
    value() {
      /** @type {Record<string, any>} */
      const value = { type: select.value };
      for (const [field, read] of readers) {
        const v = read();
        if (v !== undefined && v !== '') value[field] = v;
      }
      return value;
    },
  };
}

/**
 * The control for one schema field, or null for one the form does not offer (an inline manifest, Stretcher's options:
 * the API takes them, the form keeps to a manifest URL and Stretcher's defaults).
 * @param {string} role @param {any} field @param {string[]} repos
 * @returns {{ element: HTMLElement, read: () => any } | null}
 */
function control(role, field, repos) {
  const name = `${role}-${field.name}`;
  switch (field.kind) {
    case 'repo': {
      const select = /** @type {HTMLSelectElement} */ (h('select', { name, required: field.required },
        h('option', { value: '', text: repos.length ? '(choose)' : '(no repository registered)' }), ...repos.map((r) => h('option', { value: r, text: r }))));
      return { element: select, read: () => select.value };
    }
    case 'choice': {
      const select = /** @type {HTMLSelectElement} */ (h('select', { name }, ...field.choices.map((/** @type {string} */ c) => h('option', { value: c, text: c, selected: c === field.default }))));
      return { element: select, read: () => select.value };
    }
    case 'target': {
      const kind = /** @type {HTMLSelectElement} */ (h('select', { name: `${name}-kind` },
        h('option', { value: 'all', text: 'every node' }), h('option', { value: 'tags', text: 'nodes whose tag matches' }), h('option', { value: 'nodes', text: 'these nodes' })));
      const value = /** @type {HTMLInputElement} */ (h('input', { name, placeholder: 'role=^web$  or  web-1 web-2', size: 22 }));
      const read = () => {
        if (kind.value === 'all') return { all: true };
        if (kind.value === 'nodes') return { nodes: value.value.split(/\s+/).filter(Boolean) };
        /** @type {Record<string, string>} */
        const tags = {};
        for (const pair of value.value.split(/\s+/).filter(Boolean)) {
          const at = pair.indexOf('=');
          if (at > 0) tags[pair.slice(0, at)] = pair.slice(at + 1);
        }
        return { tags };
      };
      return { element: h('span', { class: 'inline-row' }, kind, value), read };
    }
    case 'strategy':
      return field.name === 'strategy' ? strategyControl(name) : null;
    default: {
      if (field.name === 'manifest') return null;
      const input = /** @type {HTMLInputElement} */ (h('input', { name, required: field.required, size: 18, placeholder: placeholder(field.kind) }));
      return { element: input, read: () => input.value.trim() };
    }
  }
}

/**
 * A deploy strategy as values (docs/deploys.md, "Strategy"); an empty box is the API's default. The silo checks the
 * strategy when the rule is added, and a bad one is its 400.
 * @param {string} name
 */
function strategyControl(name) {
  /** @type {[string, string, string, (text: string) => any][]} */
  const parts = [
    ['batch', '2, 25% or 1 5 25%', 'nodes per batch: a count, a percentage, or a ramp (each size in turn, the last repeating)', (t) => {
      const sizes = t.split(/[\s,]+/).filter(Boolean).map(size);
      return sizes.length > 1 ? sizes : sizes[0];
    }],
    ['max_parallel', 'whole batch', 'nodes running at once within a batch', (t) => (/^\d+$/.test(t) ? Number(t) : t)],
    ['failure_threshold', '0', 'failures allowed: a count or a percentage', size],
    ['pause', '30s', 'wait between batches', (t) => t],
    ['node_timeout', '10m', 'how long one node may run', (t) => t],
  ];
  const inputs = parts.map(([part, hint, help]) => /** @type {HTMLInputElement} */ (h('input', { name: `${name}-${part}`, placeholder: hint, title: help, size: 10 })));
  return {
    element: h('span', { class: 'inline-row rule-strategy' }, ...parts.map(([part], i) => h('label', { title: parts[i][2] }, part, inputs[i]))),
    read() {
      /** @type {Record<string, any>} */
      const strategy = {};
      parts.forEach(([part, , , parse], i) => {
        const text = inputs[i].value.trim();
        if (text) strategy[part] = parse(text);
      });
      return Object.keys(strategy).length ? strategy : undefined;
    },
  };
}

/** "25%" stays text, "2" becomes a number (as the deploy API takes sizes). @param {string} text */
function size(text) {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** @param {string} kind */
function placeholder(kind) {
  switch (kind) {
    case 'key': return '/build_notify';
    case 'event': return 'deployed';
    case 'branches': return 'main release/*';
    default: return '';
  }
}

/** "user_event name=deployed", "set_key key=/a value={{payload}}". @param {any} part */
function describe(part) {
  const fields = Object.entries(part).filter(([k, v]) => k !== 'type' && v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
  return [part.type, ...fields].join(' ');
}

/** @param {any[]} list */
function lastRuns(list) {
  if (!list.length) return h('span', { class: 'muted', text: 'never ran' });
  return h('span', { class: 'rule-runs' }, ...list.map((run) => h('span', { class: `badge badge-${run.outcome}`, title: run.error ?? time(run.at), dataset: { run: run.outcome }, text: `${run.outcome} ${time(run.at)}` })));
}
