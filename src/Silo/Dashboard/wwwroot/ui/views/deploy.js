// @ts-check
// One deploy: its batches as rows of tiles, one per node, coloured by the node's state and changed as the silo pushes
// each change (GET /v1/deploys/ID?follow=true); a node's output, followed while it runs, when its tile is clicked; and
// cancel for tokens with the deploy scope while the deploy runs.
import { getJson, isAbort, pause, readNdjson, request, sendJson } from '../lib/api.js';
import { badge, errorBox, h, replace, time } from '../lib/dom.js';
import { can } from '../lib/identity.js';
import { counts } from './deploys.js';

/** Output shown of a node, at most: the start of a longer one is cut (the whole is at the log's URL). */
const OUTPUT_KEPT = 256 * 1024;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { params, signal }) {
  const id = params.id;
  const path = `/v1/deploys/${encodeURIComponent(id)}`;
  const live = h('span', { class: 'live', text: 'connecting' });
  const actions = h('div', { class: 'actions' });
  const problem = h('div');
  const details = h('dl', { class: 'details' });
  const batches = h('div', { class: 'deploy-batches' });
  const outputTitle = h('h2', null, 'Output');
  const outputNote = h('p', { class: 'muted', text: 'Click a node to see its output.' });
  const output = h('pre', { class: 'log deploy-output', dataset: { output: '' } });
  output.hidden = true;
  /** @type {any} */
  let deploy = await getJson(path, signal);
  /** @type {Map<string, HTMLElement>} */
  const tiles = new Map();
  /** @type {string | null} */
  let shown = null;
  /** @type {AbortController | null} */
  let following = null;

  root.append(
    h('div', { class: 'view-head' }, h('h1', null, h('a', { href: '#/deploys', text: 'Deploys' }), ' / ', h('span', { class: 'mono', text: id })), live, actions),
    problem,
    h('div', { class: 'panel' }, details),
    h('h2', null, 'Batches'), batches,
    outputTitle, outputNote, output);

  function render() {
    replace(details,
      h('dt', null, 'Status'), h('dd', { dataset: { status: deploy.status } }, badge(deploy.status)),
      h('dt', null, 'Target'), h('dd', null, h('a', { href: `#/deploys?target=${encodeURIComponent(deploy.target)}`, text: deploy.target })),
      h('dt', null, 'Batch'), h('dd', { text: `${deploy.batch} of ${deploy.batches}` }),
      h('dt', null, 'Nodes'), h('dd', null, counts(deploy.counts)),
      h('dt', null, 'Manifest'), h('dd', { class: 'mono', text: deploy.manifest_url ?? 'inline' }),
      h('dt', null, 'Strategy'), h('dd', { class: 'mono', text: strategy(deploy.strategy) }),
      h('dt', null, 'Started'), h('dd', { text: time(deploy.created) }),
      h('dt', null, 'Ended'), h('dd', { text: deploy.finished ? time(deploy.finished) : '' }),
      deploy.stop_reason ? h('dt', null, 'Stopped') : null, deploy.stop_reason ? h('dd', { text: deploy.stop_reason }) : null);
    replace(actions, ...(can('deploy') && deploy.status === 'running' ? [
      h('button', { type: 'button', dataset: { action: 'cancel' }, on: { click: () => cancel(false) } }, 'Cancel'),
      h('button', { type: 'button', class: 'danger', dataset: { action: 'cancel-stop' }, on: { click: () => cancel(true) } }, 'Cancel and stop running nodes'),
    ] : []));
    renderTiles();
  }

  // Tiles are made once per node and changed in place: a change pushed costs a class and a text, not a rebuild.
  function renderTiles() {
    if (tiles.size === 0) {
      /** @type {Map<number, HTMLElement>} */
      const rows = new Map();
      for (const node of deploy.nodes) {
        let row = rows.get(node.batch);
        if (!row) {
          row = h('div', { class: 'deploy-tiles' });
          rows.set(node.batch, row);
          batches.append(h('section', { class: 'deploy-batch', dataset: { batch: String(node.batch) } }, h('h3', { text: `Batch ${node.batch}` }), row));
        }
        const tile = h('button', { type: 'button', class: 'deploy-tile', dataset: { node: node.node }, on: { click: () => show(node.node) } },
          h('span', { class: 'deploy-tile-name', text: node.node }), h('span', { class: 'deploy-tile-status' }));
        tiles.set(node.node, tile);
        row.append(tile);
      }
    }
    for (const node of deploy.nodes) {
      const tile = tiles.get(node.node);
      if (!tile) continue;
      tile.className = `deploy-tile deploy-tile-${node.status}${node.node === shown ? ' selected' : ''}`;
      tile.dataset.status = node.status;
      tile.title = [node.status, node.exit_code !== undefined ? `exit ${node.exit_code}` : '', node.reason ?? ''].filter(Boolean).join(', ');
      /** @type {HTMLElement} */ (tile.lastElementChild).textContent = node.status + (node.duration_ms !== undefined ? ` ${(node.duration_ms / 1000).toFixed(1)} s` : '');
    }
  }

  /** @param {boolean} stop */
  async function cancel(stop) {
    try {
      deploy = await sendJson('DELETE', `${path}?stop=${stop}`, undefined, signal);
      render();
    } catch (error) {
      replace(problem, errorBox(error));
    }
  }

  /** Shows a node's output, following it while the node runs. @param {string} node */
  async function show(node) {
    following?.abort();
    const controller = new AbortController();
    following = controller;
    shown = node;
    renderTiles();
    outputTitle.textContent = `Output of ${node}`;
    outputNote.hidden = true;
    output.hidden = false;
    output.dataset.output = node;
    output.textContent = '';
    const both = AbortSignal.any([signal, controller.signal]);
    try {
      const response = await request('GET', `${path}/nodes/${encodeURIComponent(node)}/log?follow=true`, { signal: both });
      if (!response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        let text = (output.textContent ?? '') + value;
        if (text.length > OUTPUT_KEPT) text = '…' + text.slice(text.length - OUTPUT_KEPT);
        output.textContent = text;
        output.scrollTop = output.scrollHeight;
      }
      output.dataset.ended = 'true';
    } catch (error) {
      if (!both.aborted && !isAbort(error)) output.after(errorBox(error));
    }
  }

  render();

  // The deploy's stream ends with the deploy; one that breaks before is opened again (it starts with the deploy as it is).
  void (async () => {
    let delay = 1000;
    while (!signal.aborted && deploy.status === 'running') {
      try {
        const response = await request('GET', `${path}?follow=true`, { signal });
        live.className = 'live on';
        live.textContent = 'live';
        delay = 1000;
        await readNdjson(response, (line) => {
          deploy = line;
          render();
        });
        if (deploy.status === 'running') throw new Error('the deploy stream ended early');
      } catch (error) {
        if (signal.aborted || isAbort(error)) return;
        live.className = 'live off';
        live.textContent = 'reconnecting';
        await pause(delay, signal);
        delay = Math.min(delay * 2, 10000);
      }
    }
    live.className = 'live';
    live.textContent = deploy.status === 'running' ? '' : 'ended';
  })();
}

/** @param {any} s */
function strategy(s) {
  if (!s) return '';
  return [`batch ${s.batch.join(', ')}`, s.max_parallel ? `max ${s.max_parallel} at once` : '', `threshold ${s.failure_threshold}`, `pause ${s.pause}`, `node timeout ${s.node_timeout}`].filter(Boolean).join(' · ');
}
