// @ts-check
// Events and queries: fire a user event (POST /v1/events/NAME), run a query and show its acks and responses as they
// stream in (POST /v1/queries/NAME, NDJSON), the event history, and the monitor's lines as the silo pushes them.
import { decodeBase64, follow, getJson, readNdjson, request } from '../lib/api.js';
import { badge, errorBox, h, keyedTable, replace, time } from '../lib/dom.js';
import { can } from '../lib/identity.js';

const HISTORY_KEPT = 1024;
const MONITOR_KEPT = 200;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { signal }) {
  const live = h('span', { class: 'live', text: 'connecting' });
  root.append(h('div', { class: 'view-head' }, h('h1', null, 'Events and queries'), live));
  if (can('events:fire')) root.append(fireForm(signal));
  if (can('query')) root.append(queryForm(signal));

  /** @type {any[]} */
  let history = [];
  const historyTable = keyedTable({
    key: (e) => e.id,
    empty: 'No user event yet.',
    rowProps: (e) => ({ dataset: { event: e.name } }),
    columns: [
      { title: 'LTime', class: 'num', cell: (e) => e.lTime },
      { title: 'Event', cell: (e) => e.name },
      { title: 'Payload', cell: (e) => h('span', { class: 'mono', text: decodeBase64(e.payload) }) },
      { title: 'Filters', cell: (e) => [e.nodeFilter && `node=${e.nodeFilter}`, e.tagFilter && `tag=${e.tagFilter}`].filter(Boolean).join(' ') },
      { title: 'Coalesce', cell: (e) => (e.coalesce ? 'yes' : 'no') },
      { title: 'Fired', cell: (e) => time(e.at) },
    ],
  });
  const monitor = h('div', { class: 'log', 'aria-live': 'polite' });
  root.append(h('h2', null, 'History'), historyTable.element, h('h2', null, 'Monitor ', h('span', { class: 'muted', text: '(member events, user events and queries as this silo sees them)' })), monitor);

  async function reloadHistory() {
    history = (await getJson('/v1/events', signal)).reverse().slice(0, HISTORY_KEPT);
    historyTable.update(history);
  }

  await reloadHistory();
  void follow('/v1/monitor', {
    signal,
    onOpen: reloadHistory,
    onLine(line) {
      monitor.prepend(h('div', { class: 'mono', text: `${time(Date.now())} ${describe(line)}` }));
      while (monitor.childElementCount > MONITOR_KEPT) monitor.lastElementChild?.remove();
      if (line.type === 'user') void reloadHistory().catch((error) => monitor.prepend(errorBox(error)));
    },
    onState(state) {
      live.className = `live ${state === 'live' ? 'on' : 'off'}`;
      live.textContent = state === 'live' ? 'live' : 'reconnecting';
    },
  });
}

/** @param {any} line */
function describe(line) {
  switch (line.type) {
    case 'member': return `${line.event} ${line.member?.name} (${line.member?.status})`;
    case 'user': return `user event ${line.name} #${line.lTime}: ${decodeBase64(line.payload)}`;
    case 'query': return `query ${line.name} #${line.lTime}: ${decodeBase64(line.payload)}`;
    case 'leaving': return `${line.node} leaving`;
    case 'dropped': return `(${line.count} lines dropped: this page read too slowly)`;
    default: return JSON.stringify(line);
  }
}

/** @param {AbortSignal} signal */
function fireForm(signal) {
  const result = h('div');
  const name = /** @type {HTMLInputElement} */ (h('input', { name: 'name', required: true, placeholder: 'deploy', size: 14 }));
  const payload = /** @type {HTMLInputElement} */ (h('input', { name: 'payload', placeholder: 'payload', size: 24 }));
  const node = /** @type {HTMLInputElement} */ (h('input', { name: 'node', placeholder: 'web-.*', size: 12 }));
  const tag = /** @type {HTMLInputElement} */ (h('input', { name: 'tag', placeholder: 'role=web', size: 12 }));
  const coalesce = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', name: 'coalesce', checked: true }));
  const form = h('form', { class: 'inline', dataset: { form: 'fire' }, on: { submit } },
    h('label', null, 'Event', name), h('label', null, 'Payload', payload),
    h('label', null, 'Node filter (regexp)', node), h('label', null, 'Tag filter (key=regexp)', tag),
    h('label', { class: 'check' }, coalesce, 'coalesce'),
    h('button', { type: 'submit', class: 'primary' }, 'Fire event'));

  /** @param {Event} event */
  async function submit(event) {
    event.preventDefault();
    const query = new URLSearchParams({ coalesce: String(coalesce.checked) });
    if (node.value.trim()) query.set('node', node.value.trim());
    if (tag.value.trim()) query.set('tag', tag.value.trim());
    try {
      const response = await request('POST', `/v1/events/${encodeURIComponent(name.value.trim())}?${query}`, { body: payload.value, signal });
      const fired = await response.json();
      replace(result, h('div', { class: 'note', dataset: { fired: fired.id } }, `Fired ${fired.name} with Lamport time ${fired.lTime} (id ${fired.id}).`));
    } catch (error) {
      replace(result, errorBox(error));
    }
  }

  return h('div', { class: 'panel' }, h('h2', null, 'Fire a user event'), form, result);
}

/** @param {AbortSignal} signal */
function queryForm(signal) {
  const name = /** @type {HTMLInputElement} */ (h('input', { name: 'name', required: true, placeholder: 'uptime', size: 14 }));
  const payload = /** @type {HTMLInputElement} */ (h('input', { name: 'payload', placeholder: 'payload', size: 24 }));
  const nodes = /** @type {HTMLInputElement} */ (h('input', { name: 'node', placeholder: 'web-1 web-2', size: 14 }));
  const tags = /** @type {HTMLInputElement} */ (h('input', { name: 'tag', placeholder: 'role=web', size: 12 }));
  const timeout = /** @type {HTMLInputElement} */ (h('input', { name: 'timeout', placeholder: 'default', size: 8 }));
  const ack = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', name: 'ack', checked: true }));
  const summary = h('div', { class: 'muted' });
  const problem = h('div');
  /** @type {any[]} */
  let answers = [];
  const table = keyedTable({
    key: (a) => `${a.type} ${a.from}`,
    empty: 'No answer yet.',
    rowProps: (a) => ({ dataset: { answer: a.type, from: a.from } }),
    columns: [
      { title: 'After', class: 'num', cell: (a) => `${a.ms} ms` },
      { title: 'Node', cell: (a) => a.from },
      { title: 'Kind', cell: (a) => badge(a.type) },
      { title: 'Response', cell: (a) => h('span', { class: 'mono', text: a.type === 'response' ? decodeBase64(a.payload) : '' }) },
    ],
  });
  /** @type {AbortController | null} */
  let running = null;
  const form = h('form', { class: 'inline', dataset: { form: 'query' }, on: { submit } },
    h('label', null, 'Query', name), h('label', null, 'Payload', payload),
    h('label', null, 'Nodes (names, space between)', nodes), h('label', null, 'Tags (key=regexp)', tags),
    h('label', null, 'Timeout', timeout), h('label', { class: 'check' }, ack, 'ask for acks'),
    h('button', { type: 'submit', class: 'primary' }, 'Run query'));

  /** @param {Event} event */
  async function submit(event) {
    event.preventDefault();
    running?.abort();
    const controller = new AbortController();
    running = controller;
    const both = AbortSignal.any([signal, controller.signal]);
    const query = new URLSearchParams({ ack: String(ack.checked) });
    for (const n of nodes.value.split(/\s+/).filter(Boolean)) query.append('node', n);
    for (const t of tags.value.split(/\s+/).filter(Boolean)) query.append('tag', t);
    if (timeout.value.trim()) query.set('timeout', timeout.value.trim());
    answers = [];
    table.update(answers);
    problem.replaceChildren();
    summary.textContent = 'running…';
    const started = performance.now();
    try {
      const response = await request('POST', `/v1/queries/${encodeURIComponent(name.value.trim())}?${query}`, { body: payload.value, signal: both });
      await readNdjson(response, (line) => {
        if (line.type === 'done') {
          summary.textContent = `done after ${Math.round(performance.now() - started)} ms: ${line.acks} acks, ${line.responses} responses`;
          return;
        }
        answers.push({ ...line, ms: Math.round(performance.now() - started) });
        table.update(answers);
        summary.textContent = `running… ${answers.length} answers so far`;
      });
    } catch (error) {
      if (both.aborted) return;
      summary.textContent = '';
      replace(problem, errorBox(error));
    }
  }

  return h('div', { class: 'panel' }, h('h2', null, 'Run a query'), form, summary, problem, table.element);
}
