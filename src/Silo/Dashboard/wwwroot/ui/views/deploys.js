// @ts-check
// The deploy history (GET /v1/deploys?follow=true: the list, then each summary as the silo records it), filtered by
// target (#/deploys?target=TEXT), newest first.
import { follow, getJson } from '../lib/api.js';
import { badge, h, keyedTable, time } from '../lib/dom.js';

const KEPT = 50;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { query, signal, setQuery }) {
  const target = query.get('target') ?? '';
  const live = h('span', { class: 'live', text: 'connecting' });
  const filter = /** @type {HTMLInputElement} */ (h('input', { name: 'target', value: target, placeholder: 'role:web', size: 24 }));
  const form = h('form', { class: 'inline', dataset: { form: 'deploy-filter' }, on: { submit: (/** @type {Event} */ e) => { e.preventDefault(); setQuery({ target: filter.value.trim() || undefined }); } } },
    h('label', null, 'Target contains', filter), h('button', { type: 'submit' }, 'Filter'));

  /** @type {Map<string, any>} */
  const deploys = new Map();
  const table = keyedTable({
    key: (d) => d.id,
    empty: target ? 'No deploy with that target.' : 'No deploy yet.',
    rowProps: (d) => ({ class: d.status === 'failed' ? 'failed' : '', dataset: { deploy: d.id, status: d.status } }),
    columns: [
      { title: 'Deploy', cell: (d) => h('a', { href: `#/deploys/${encodeURIComponent(d.id)}`, class: 'mono', text: d.id }) },
      { title: 'Target', cell: (d) => h('a', { href: `#/deploys?target=${encodeURIComponent(d.target)}`, text: d.target }) },
      { title: 'Status', cell: (d) => badge(d.status) },
      { title: 'Nodes', cell: (d) => counts(d.counts) },
      { title: 'Started', cell: (d) => time(d.created) },
      { title: 'Ended', cell: (d) => time(d.finished) },
    ],
  });
  root.append(h('div', { class: 'view-head' }, h('h1', null, 'Deploys'), live), form, table.element);

  function render() {
    const list = [...deploys.values()].sort((a, b) => String(b.created).localeCompare(String(a.created)));
    // Only the newest KEPT stay: a page left open while deploys go on holds no more.
    for (const old of list.splice(KEPT)) deploys.delete(old.id);
    table.update(list);
  }

  const filterQuery = `limit=${KEPT}${target ? `&target=${encodeURIComponent(target)}` : ''}`;
  for (const d of await getJson(`/v1/deploys?${filterQuery}`, signal)) deploys.set(d.id, d);
  render();
  // The stream starts with the list again, then pushes each summary recorded; a summary replaces the deploy's row
  // (the history only grows, so nothing is ever removed but what falls past KEPT).
  void follow(`/v1/deploys?follow=true&${filterQuery}`, {
    signal,
    onLine(line) {
      deploys.set(line.id, line);
      render();
    },
    onState(state) {
      live.className = `live ${state === 'live' ? 'on' : 'off'}`;
      live.textContent = state === 'live' ? 'live' : 'reconnecting';
    },
  });
}

/** Node counts by status as badges: "2 succeeded 1 running". @param {Record<string, number> | null | undefined} counts */
export function counts(counts) {
  const span = h('span', { class: 'deploy-counts' });
  for (const [status, n] of Object.entries(counts ?? {})) span.append(h('span', { class: `badge badge-${status}`, text: `${n} ${status}` }));
  return span;
}
