// @ts-check
// Builds: the queue (waiting jobs grouped by the agent tags they need, each with why it waits; running jobs), and the
// history filtered by repository, branch and state (in the hash query), newest first, with older pages on demand.
// Live: the queue and the list are pushed (GET /v1/queue?follow=true, GET /v1/builds?follow=true), never polled.
import { follow, request } from '../lib/api.js';
import { age, badge, errorBox, h, keyedTable, replace, tagList, time } from '../lib/dom.js';

const STATES = ['scheduled', 'running', 'canceling', 'passed', 'failed', 'canceled', 'skipped'];
const PAGE = 50;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { query, signal, setQuery }) {
  const filters = { repo: query.get('repo') ?? '', branch: query.get('branch') ?? '', state: query.get('state') ?? '' };
  const live = h('span', { class: 'live', text: 'connecting' });
  const problem = h('div');
  const queuePlace = h('div', { class: 'build-queue' });
  const older = h('button', { type: 'button', hidden: true, dataset: { action: 'older' }, on: { click: loadOlder } }, 'Older builds');

  /** @type {Map<string, any>} */
  const builds = new Map();
  /** The cursor of the page after the rows shown (null: none older). @type {string | null} */
  let nextBefore = null;
  let pages = 1;

  const history = keyedTable({
    key: (b) => b.id,
    empty: 'No build matches.',
    rowProps: (b) => ({ class: b.state === 'failed' ? 'failed' : '', dataset: { build: b.id, state: b.state } }),
    columns: [
      { title: 'Build', cell: (b) => h('a', { href: `#/builds/${encodeURI(b.id)}`, text: b.id }) },
      { title: 'State', cell: (b) => badge(b.state) },
      { title: 'Branch', cell: (b) => b.branch },
      { title: 'Commit', cell: (b) => h('span', { class: 'mono', text: (b.commit || '').slice(0, 10) }) },
      { title: 'Trigger', cell: (b) => `${b.trigger}${b.triggeredBy ? ` by ${b.triggeredBy}` : ''}` },
      { title: 'Created', cell: (b) => h('span', { title: time(b.created), text: `${age(b.created)} ago` }) },
      { title: 'Error', cell: (b) => h('span', { class: 'mono', text: b.error ?? '' }) },
    ],
  });

  const repo = h('input', { name: 'repo', value: filters.repo, placeholder: 'team/app', size: 18 });
  const branch = h('input', { name: 'branch', value: filters.branch, placeholder: 'main', size: 14 });
  const state = h('select', { name: 'state' }, h('option', { value: '', text: 'any state' }),
    ...STATES.map((s) => h('option', { value: s, text: s, selected: s === filters.state })));
  const form = h('form', { class: 'inline', on: { submit } },
    h('label', null, 'Repository', repo),
    h('label', null, 'Branch', branch),
    h('label', null, 'State', state),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'),
    h('button', { type: 'button', on: { click: () => setQuery({}) } }, 'Clear'));

  root.append(
    h('div', { class: 'view-head' }, h('h1', null, 'Builds'), live),
    problem,
    h('h2', null, 'Queue'), queuePlace,
    h('h2', null, 'History'), form, history.element, older);

  /** @param {Event} event */
  function submit(event) {
    event.preventDefault();
    setQuery({
      repo: /** @type {HTMLInputElement} */ (repo).value.trim(),
      branch: /** @type {HTMLInputElement} */ (branch).value.trim(),
      state: /** @type {HTMLSelectElement} */ (state).value,
    });
  }

  function listQuery() {
    const q = new URLSearchParams();
    if (filters.repo) q.set('repo', filters.repo);
    if (filters.branch) q.set('branch', filters.branch);
    if (filters.state) q.set('state', filters.state);
    q.set('limit', String(PAGE));
    return q;
  }

  /** Newest first, as the API orders them. @param {any} a @param {any} b */
  function newer(a, b) {
    const at = new Date(b.created).getTime() - new Date(a.created).getTime();
    return at !== 0 ? at : (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  }

  function renderList() {
    const sorted = [...builds.values()].sort(newer);
    // Pushed builds join at the top: beyond the pages loaded the oldest leave (they come back with "Older builds").
    const keep = pages * PAGE;
    if (sorted.length > keep) {
      for (const b of sorted.splice(keep)) builds.delete(b.id);
      nextBefore = cursorOf(sorted[sorted.length - 1]);
    }
    history.update(sorted);
    older.hidden = !nextBefore;
  }

  /** A pushed change: shown when it matches the filters (the stream sends every state), else gone from the list. @param {any} b */
  function apply(b) {
    if (filters.state && b.state !== filters.state) builds.delete(b.id);
    else if (builds.has(b.id) || !nextBefore || builds.size === 0 || newer(b, [...builds.values()].sort(newer)[builds.size - 1]) < 0) builds.set(b.id, b);
    renderList();
  }

  async function loadOlder() {
    if (!nextBefore) return;
    try {
      const q = listQuery();
      q.set('before', nextBefore);
      const response = await request('GET', `/v1/builds?${q}`, { signal });
      for (const b of await response.json()) builds.set(b.id, b);
      nextBefore = response.headers.get('X-Platform-Next-Before');
      pages++;
      renderList();
    } catch (error) {
      replace(problem, errorBox(error));
    }
  }

  /** @param {any} view */
  function renderQueue(view) {
    /** @type {Map<string, { tags: Record<string, string>, jobs: any[] }>} */
    const groups = new Map();
    for (const w of view.waiting ?? []) {
      const tags = w.ticket.agents ?? {};
      const key = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' ');
      if (!groups.has(key)) groups.set(key, { tags, jobs: [] });
      /** @type {any} */ (groups.get(key)).jobs.push(w);
    }
    const waiting = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, group]) =>
      h('div', { class: 'queue-group', dataset: { tags: key } },
        h('h3', null, key ? tagList(group.tags) : 'any agent', h('span', { class: 'muted', text: ` ${group.jobs.length} waiting` })),
        h('table', { class: 'grid' },
          h('thead', null, h('tr', null, ...['Job', 'Build', 'Waiting', 'Why'].map((t) => h('th', { text: t })))),
          h('tbody', null, ...group.jobs.map((w) => h('tr', { dataset: { job: w.ticket.jobId } },
            h('td', { class: 'mono', text: w.ticket.jobId.slice(w.ticket.buildId.length + 1) + (w.ticket.image ? ` (image ${w.ticket.image})` : '') }),
            h('td', null, h('a', { href: `#/builds/${encodeURI(w.ticket.buildId)}`, text: w.ticket.buildId })),
            h('td', { text: age(w.ticket.queued) }),
            h('td', { class: 'reason', text: w.reason })))))));
    const running = (view.running ?? []).map((/** @type {any} */ r) => {
      const buildId = r.jobId.slice(0, r.jobId.lastIndexOf('/'));
      return h('tr', { dataset: { job: r.jobId } },
        h('td', { class: 'mono', text: r.jobId.slice(buildId.length + 1) }),
        h('td', null, h('a', { href: `#/builds/${encodeURI(buildId)}`, text: buildId })),
        h('td', { text: r.agent }),
        h('td', { text: age(r.since) }));
    });
    const agents = (view.agents ?? []).length;
    replace(queuePlace,
      waiting.length ? h('div', { class: 'table-wrap' }, ...waiting) : h('p', { class: 'muted', text: 'No job waits.' }),
      running.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
          h('thead', null, h('tr', null, ...['Running job', 'Build', 'Agent', 'For'].map((t) => h('th', { text: t })))),
          h('tbody', null, ...running)))
        : h('p', { class: 'muted', text: 'No job runs.' }),
      h('p', { class: 'muted', text: `${agents} agent${agents === 1 ? '' : 's'} with job slots connected.` }));
  }

  // Both streams open at once, the list first, and each one's first line is its current state (no GET before
  // them); mount returns once both are on the page, so data-ready means the history's rows are there.
  /** @type {(value?: unknown) => void} */
  let listShown = () => {};
  /** @type {(value?: unknown) => void} */
  let queueShown = () => {};
  const shown = Promise.all([new Promise((resolve) => (listShown = resolve)), new Promise((resolve) => (queueShown = resolve))]);

  const q = listQuery();
  q.set('follow', 'true');
  void follow(`/v1/builds?${q}`, {
    signal,
    onLine(line) {
      if (line.type === 'list') {
        builds.clear();
        for (const b of line.builds) if (!filters.state || b.state === filters.state) builds.set(b.id, b);
        nextBefore = line.nextBefore ?? null;
        pages = 1;
        renderList();
        listShown();
      } else if (line.type === 'build') {
        apply(line.build);
      }
    },
    onState(status, error) {
      live.className = `live ${status === 'live' ? 'on' : 'off'}`;
      live.textContent = status === 'live' ? 'live' : 'reconnecting';
      if (error) replace(problem, errorBox(error));
      if (status === 'retrying') listShown();
    },
  });
  void follow('/v1/queue?follow=true', {
    signal,
    onLine(line) {
      if (line.type !== 'queue') return;
      renderQueue(line.queue);
      queueShown();
    },
    onState(status, error) {
      if (error) replace(problem, errorBox(error));
      if (status === 'retrying') queueShown();
    },
  });

  await shown;
}

/** The API's cursor of a build: its creation in .NET ticks (100 ns since 0001-01-01), then its id. @param {any} b */
function cursorOf(b) {
  const iso = String(b.created);
  const ms = new Date(iso).getTime();
  // The fraction's digits past the millisecond, so the cursor is exact.
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? '';
  const extra = Number((fraction.slice(3) + '0000').slice(0, 4));
  return `${(BigInt(ms) * 10000n + BigInt(extra) + 621355968000000000n).toString()}_${b.id}`;
}
