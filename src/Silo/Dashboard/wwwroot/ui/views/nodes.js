// @ts-check
// Nodes: every node with status, tags, address, checks and when it last changed, filtered as `platform members`
// filters (status, name regexp, tag=regexp; whole-value matches). Live: member changes come pushed on /v1/monitor
// (the stream is opened before the list is read, so nothing falls between them), check states by Consul's blocking
// query on /v1/health/state/any.
import { blockingLoop, follow, getJson, request } from '../lib/api.js';
import { age, badge, errorBox, h, keyedTable, replace, tagList } from '../lib/dom.js';

const STATUSES = ['alive', 'leaving', 'left', 'failed'];

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { query, signal, setQuery }) {
  const filters = { status: query.get('status') ?? '', name: query.get('name') ?? '', tags: query.getAll('tag') };
  const matches = clientFilter(filters);
  const live = h('span', { class: 'live', text: 'connecting' });
  const count = h('span', { class: 'muted' });
  const problem = h('div');

  /** @type {Map<string, any>} */
  const nodes = new Map();
  /** @type {Map<string, any[]>} */
  const checks = new Map();

  // stable: a row is rebuilt only for a new node object (a member change, or its checks changing below), so a
  // change of one node costs one row, not a thousand.
  const table = keyedTable({
    stable: true,
    key: (n) => n.name,
    empty: 'No node matches.',
    rowProps: (n) => ({ class: n.status, dataset: { node: n.name, status: n.status } }),
    columns: [
      { title: 'Node', cell: (n) => h('a', { href: `#/nodes/${encodeURIComponent(n.name)}`, text: n.name }) },
      { title: 'Status', cell: (n) => badge(n.status) },
      { title: 'Address', cell: (n) => h('span', { class: 'mono', text: `${n.addr}:${n.port}` }) },
      { title: 'Tags', cell: (n) => tagList(n.tags) },
      { title: 'Checks', cell: (n) => checkSummary(checks.get(n.name)) },
      { title: 'Silo', cell: (n) => n.silo ?? '' },
      { title: 'Last seen', cell: (n) => (n.status === 'alive' || n.status === 'leaving' ? 'now' : `${age(n.changed)} ago`) },
    ],
  });

  const status = h('select', { name: 'status' }, h('option', { value: '', text: 'any status' }),
    ...STATUSES.map((s) => h('option', { value: s, text: s, selected: s === filters.status })));
  const name = h('input', { name: 'name', value: filters.name, placeholder: 'web-.*', size: 16 });
  const tags = h('input', { name: 'tag', value: filters.tags.join(' '), placeholder: 'role=web dc=eu.*', size: 24 });
  const form = h('form', { class: 'inline', on: { submit } },
    h('label', null, 'Status', status),
    h('label', null, 'Name (regexp)', name),
    h('label', null, 'Tags (key=regexp, space between)', tags),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'),
    h('button', { type: 'button', on: { click: () => setQuery({}) } }, 'Clear'));

  root.append(h('div', { class: 'view-head' }, h('h1', null, 'Nodes'), count, live), form, problem, table.element);

  /** @param {Event} event */
  function submit(event) {
    event.preventDefault();
    setQuery({
      status: /** @type {HTMLSelectElement} */ (status).value,
      name: /** @type {HTMLInputElement} */ (name).value.trim(),
      tag: /** @type {HTMLInputElement} */ (tags).value.split(/\s+/).filter(Boolean),
    });
  }

  function render() {
    const list = [...nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    table.update(list);
    const failed = list.filter((n) => n.status === 'failed').length;
    count.textContent = `${list.length} node${list.length === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`;
  }

  const listPath = '/v1/nodes?' + new URLSearchParams([
    ...(filters.status ? [['status', filters.status]] : []),
    ...(filters.name ? [['name', filters.name]] : []),
    ...filters.tags.map((t) => ['tag', t]),
  ]).toString();

  /** Member events that arrive while the list is being read wait here, then apply in order on top of it. */
  /** @type {any[] | null} */
  let pending = null;

  /** @param {any} line */
  function onLine(line) {
    if (line.type === 'dropped') {
      void reload();
      return;
    }
    if (line.type !== 'member' || !line.member) return;
    if (pending) pending.push(line);
    else apply(line);
  }

  /** @param {any} line a monitor line: {type:"member", event, member} */
  function apply(line) {
    const member = line.member;
    if (line.event === 'member-reap' || !matches(member)) nodes.delete(member.name);
    else nodes.set(member.name, { ...nodes.get(member.name), ...member, changed: new Date().toISOString() });
  }

  async function reload() {
    pending = [];
    try {
      const list = await getJson(listPath, signal);
      nodes.clear();
      for (const node of list) nodes.set(node.name, node);
      for (const line of pending) apply(line);
      problem.replaceChildren();
    } finally {
      pending = null;
      render();
    }
  }

  // The first list is read inside the stream's first onOpen; mount returns once it is on the page.
  /** @type {(value?: unknown) => void} */
  let firstShown = () => {};
  const shown = new Promise((resolve) => (firstShown = resolve));
  void follow('/v1/monitor', {
    signal,
    onLine(line) {
      onLine(line);
      // Only member lines change the list: a user event fired to the fleet does not redraw a thousand rows.
      if (!pending && line.type === 'member') render();
    },
    async onOpen() {
      try {
        await reload();
      } catch (error) {
        replace(problem, errorBox(error));
      }
      firstShown();
    },
    onState(state, error) {
      live.className = `live ${state === 'live' ? 'on' : 'off'}`;
      live.textContent = state === 'live' ? 'live' : 'reconnecting';
      if (error) replace(problem, errorBox(error));
      if (state === 'retrying') firstShown();
    },
  });

  void blockingLoop(async (index, loopSignal) => {
    const response = await request('GET', `/v1/health/state/any${index ? `?index=${index}&wait=5m` : ''}`, { signal: loopSignal });
    const list = await response.json();
    /** @type {Map<string, any[]>} */
    const next = new Map();
    for (const check of list) {
      const forNode = next.get(check.Node) ?? [];
      forNode.push(check);
      next.set(check.Node, forNode);
    }
    // A node whose checks changed gets a new object, so its row is drawn again.
    for (const name of new Set([...checks.keys(), ...next.keys()])) {
      if (JSON.stringify(checks.get(name)) !== JSON.stringify(next.get(name)) && nodes.has(name)) nodes.set(name, { ...nodes.get(name) });
    }
    checks.clear();
    for (const [name, forNode] of next) checks.set(name, forNode);
    render();
    return response.headers.get('X-Consul-Index') ?? undefined;
  }, { signal });

  await shown;
}

/** "2 passing · 1 critical", with the failing checks' names in the title. @param {any[] | undefined} list */
function checkSummary(list) {
  if (!list || list.length === 0) return '';
  const counts = new Map();
  for (const check of list) counts.set(check.Status, (counts.get(check.Status) ?? 0) + 1);
  const bad = list.filter((c) => c.Status !== 'passing').map((c) => `${c.Name}: ${c.Output || c.Status}`);
  return h('span', { class: 'tags', title: bad.join('\n') || undefined },
    ...['critical', 'warning', 'passing'].filter((s) => counts.has(s)).map((s) => h('span', { class: `badge badge-${s}`, text: `${counts.get(s)} ${s}` })));
}

/**
 * The listing's filters, applied again to live changes: as the silo, a name or tag expression must match the whole
 * value and a missing tag is ''. An expression JavaScript cannot read (the silo's .NET syntax differs a little) is
 * left to the silo: the list is then only corrected by a reload.
 * @param {{ status: string, name: string, tags: string[] }} filters
 */
function clientFilter(filters) {
  const whole = (/** @type {string} */ expr) => {
    try {
      return new RegExp(`^(?:${expr})$`);
    } catch {
      return null;
    }
  };
  const name = filters.name ? whole(filters.name) : null;
  const tags = filters.tags.map((t) => {
    const eq = t.indexOf('=');
    return { key: t.slice(0, eq), expr: whole(t.slice(eq + 1)) };
  });
  return (/** @type {any} */ member) => {
    if (filters.status && member.status !== filters.status) return false;
    if (name && !name.test(member.name)) return false;
    for (const tag of tags) if (tag.expr && !tag.expr.test(member.tags?.[tag.key] ?? '')) return false;
    return true;
  };
}
