// @ts-check
// Cluster: the silos, per grain type statistics, small charts of the last minutes and the membership table's
// history, from GET /v1/cluster?follow=true: the silo pushes it every 2 s (the charts' resolution: statistics are
// counters, charted as differences) and at once on a membership change. Rings of fixed size keep the last 5 minutes only.
import { follow } from '../lib/api.js';
import { Ring, sparkline } from '../lib/chart.js';
import { age, badge, errorBox, h, keyedTable, micros, rate, replace, time } from '../lib/dom.js';

const PERIOD_MS = 2000;
const SAMPLES = 150;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { signal }) {
  const status = h('span', { class: 'live' });
  const summary = h('div', { class: 'cards' });
  const problem = h('div');
  const rings = { calls: new Ring(SAMPLES), failures: new Ring(SAMPLES), activations: new Ring(SAMPLES), watches: new Ring(SAMPLES) };
  const charts = [
    sparkline({ title: 'calls/s', ring: rings.calls, format: rate }),
    sparkline({ title: 'failures/s', ring: rings.failures, format: rate }),
    sparkline({ title: 'activations', ring: rings.activations, format: (v) => String(Math.round(v)) }),
    sparkline({ title: 'key watches', ring: rings.watches, format: (v) => String(Math.round(v)) }),
  ];

  /** @type {ReturnType<typeof keyedTable<any>>} */
  const silos = keyedTable({
    key: (s) => s.address ?? s.name,
    rowProps: (s) => ({ class: s.status === 'Dead' ? 'failed' : '', dataset: { silo: s.name } }),
    columns: [
      { title: 'Silo', cell: (s) => h('span', null, s.name, s.self ? h('span', { class: 'muted', text: ' (answering)' }) : null) },
      { title: 'State', cell: (s) => badge(s.status) },
      { title: 'Age', cell: (s) => age(s.startedAt) },
      { title: 'Address', cell: (s) => h('span', { class: 'mono', text: s.address ?? '' }) },
      { title: 'HTTP', cell: (s) => h('span', { class: 'mono', text: s.urls ?? '' }) },
      { title: 'Last alive', cell: (s) => age(s.iAmAlive) },
      { title: 'Activations', class: 'num', cell: (s) => s.activations ?? '' },
    ],
  });

  /** @type {ReturnType<typeof keyedTable<any>>} */
  const types = keyedTable({
    key: (t) => t.grainType,
    empty: 'No grain type has been called yet.',
    columns: [
      { title: 'Grain type', cell: (t) => h('span', { class: 'mono', title: t.className, text: t.grainType }) },
      { title: 'Activations', class: 'num', cell: (t) => t.activations },
      { title: 'Calls/s', class: 'num', cell: (t) => rate(t.callsPerSecond) },
      { title: 'Calls', class: 'num', cell: (t) => t.calls },
      { title: 'Failures', class: 'num', cell: (t) => t.failures },
      { title: 'p50', class: 'num', cell: (t) => micros(t.p50) },
      { title: 'p99', class: 'num', cell: (t) => micros(t.p99) },
    ],
  });

  /** @type {ReturnType<typeof keyedTable<any>>} */
  const history = keyedTable({
    key: (c) => `${c.time}|${c.silo}|${c.change}|${c.by ?? ''}`,
    empty: 'No membership change seen yet (a single silo has no membership table).',
    rowProps: (c) => ({ class: c.change === 'dead' ? 'failed' : '', dataset: { change: c.change } }),
    columns: [
      { title: 'When', cell: (c) => time(c.time) },
      { title: 'Silo', cell: (c) => h('span', null, c.name, ' ', h('span', { class: 'mono muted', text: c.silo })) },
      { title: 'Change', cell: (c) => badge(c.change) },
      { title: 'By', cell: (c) => h('span', { class: 'mono', text: c.by ?? '' }) },
      { title: 'Table version', class: 'num', cell: (c) => c.version },
    ],
  });

  root.append(
    h('div', { class: 'view-head' }, h('h1', null, 'Cluster'), status),
    summary,
    h('div', { class: 'cards' }, ...charts.map((c) => c.element)),
    problem,
    h('h2', null, 'Silos'), silos.element,
    h('h2', null, 'Grain types ', h('span', { class: 'muted', text: '(on the answering silo; p50 of the busiest method, p99 of the slowest)' })), types.element,
    h('h2', null, 'Membership history ', h('span', { class: 'muted', text: '(joins, suspicions and deaths as the answering silo saw them, newest first)' })), history.element);

  /** @type {{ at: number, calls: number, failures: number, byType: Map<string, number> } | null} */
  let previous = null;

  /** One line of the followed cluster: tables always; chart samples at most one per PERIOD_MS (a membership change comes between). @param {any} cluster */
  function sample(cluster) {
    const now = performance.now();
    const charted = !previous || now - previous.at >= PERIOD_MS * 0.75;
    let calls = 0;
    let failures = 0;
    let activations = 0;
    const byType = new Map();
    const rows = [];
    for (const type of cluster.grainTypes ?? []) {
      let typeCalls = 0;
      let typeFailures = 0;
      let busiest = null;
      let p99 = 0;
      for (const m of type.methods ?? []) {
        typeCalls += m.calls;
        typeFailures += m.failures;
        if (!busiest || m.calls > busiest.calls) busiest = m;
        p99 = Math.max(p99, m.p99Micros);
      }
      calls += typeCalls;
      failures += typeFailures;
      activations += type.activations;
      byType.set(type.grainType, typeCalls);
      const before = previous?.byType.get(type.grainType);
      const seconds = previous ? (now - previous.at) / 1000 : 0;
      rows.push({
        grainType: type.grainType, className: type.className, activations: type.activations, calls: typeCalls, failures: typeFailures,
        callsPerSecond: before === undefined || seconds <= 0 ? NaN : Math.max(0, typeCalls - before) / seconds,
        p50: busiest ? busiest.p50Micros : NaN, p99: busiest ? p99 : NaN,
      });
    }
    rows.sort((a, b) => b.calls - a.calls || a.grainType.localeCompare(b.grainType));
    if (charted) {
      if (previous) {
        const seconds = (now - previous.at) / 1000;
        rings.calls.push(Math.max(0, calls - previous.calls) / seconds);
        rings.failures.push(Math.max(0, failures - previous.failures) / seconds);
      }
      rings.activations.push(activations);
      rings.watches.push(cluster.keyWatches ?? 0);
      previous = { at: now, calls, failures, byType };
    }

    const refused = cluster.accessRefused ?? {};
    replace(summary,
      stat('Cluster', cluster.clusterId ?? 'single silo'),
      stat('Silos', String((cluster.silos ?? []).filter((s) => s.status === 'Active').length) + ' active'),
      stat('Storage', `${cluster.storage}${cluster.storageReachable ? '' : ' (unreachable)'}`),
      stat('Key watches', String(cluster.keyWatches ?? 0)),
      stat('Refused', String((refused.unauthenticated ?? 0) + (refused.forbidden ?? 0) + (refused.rateLimited ?? 0))));
    silos.update(cluster.silos ?? []);
    types.update(rows);
    history.update(cluster.history ?? []);
    for (const chart of charts) chart.draw();
    status.className = 'live on';
    status.textContent = `updated ${time(Date.now())}`;
  }

  // Pushed: the silo sends the cluster every 2 s and at once when its membership view changes (a join, a suspicion,
  // a death); a stream that breaks is opened again by follow().
  /** @type {(value?: unknown) => void} */
  let ready = () => {};
  const first = new Promise((resolve) => { ready = resolve; });
  void follow('/v1/cluster?follow=true', {
    signal,
    onLine(line) {
      sample(line);
      problem.replaceChildren();
      ready();
    },
    onState(state, error) {
      if (state !== 'retrying') return;
      status.className = 'live off';
      status.textContent = 'not updating';
      if (error) replace(problem, errorBox(error));
      ready();
    },
  });
  await first;
}

/** @param {string} label @param {string} value */
function stat(label, value) {
  return h('div', { class: 'card stat' }, h('div', { class: 'label', text: label }), h('div', { class: 'value', text: value }));
}
