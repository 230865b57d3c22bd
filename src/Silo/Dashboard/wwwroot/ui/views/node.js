// @ts-check
// One node: its details and checks (GET /v1/nodes/NAME; checks kept live by Consul's blocking query on
// /v1/health/node/NAME), its member events as the monitor pushes them, the user events it has handled, the deploys
// and build jobs it ran (GET /v1/nodes/NAME/deploys and /jobs, read again when the deploy or build feeds push a
// change), and leave / force-leave for tokens with nodes:write.
import { blockingLoop, decodeBase64, follow, getJson, request, sendJson } from '../lib/api.js';
import { age, badge, errorBox, h, keyedTable, replace, tagList, time } from '../lib/dom.js';
import { can } from '../lib/identity.js';

// As many membership changes as the node's grain keeps (docs/nodes.md).
const EVENTS_KEPT = 50;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { params, signal }) {
  const name = params.name;
  const path = `/v1/nodes/${encodeURIComponent(name)}`;
  const details = h('dl', { class: 'details' });
  const actions = h('div', { class: 'actions' });
  const problem = h('div');
  const live = h('span', { class: 'live', text: 'connecting' });
  /** @type {any} */
  let node = await getJson(path, signal);

  const checks = keyedTable({
    key: (c) => c.CheckID,
    empty: 'No checks.',
    rowProps: (c) => ({ class: c.Status === 'critical' ? 'failed' : '', dataset: { check: c.CheckID } }),
    columns: [
      { title: 'Check', cell: (c) => h('span', { title: c.CheckID, text: c.Name }) },
      { title: 'State', cell: (c) => badge(c.Status) },
      { title: 'Output', cell: (c) => h('span', { class: 'mono', text: c.Output || c.Notes || '' }) },
    ],
  });

  /** @type {any[]} */
  let memberEvents = [];
  const events = keyedTable({
    key: (e) => e.key,
    empty: 'No membership change kept.',
    rowProps: (e) => ({ dataset: { event: e.event, status: e.status } }),
    columns: [
      { title: 'When', cell: (e) => time(e.at) },
      { title: 'Event', cell: (e) => e.event },
      { title: 'Status', cell: (e) => badge(e.status) },
      { title: 'Tags', cell: (e) => tagList(e.tags) },
      { title: 'Silo', cell: (e) => e.silo ?? '' },
    ],
  });

  const handled = keyedTable({
    key: (e) => e.id,
    empty: 'No user event kept.',
    columns: [
      { title: 'LTime', class: 'num', cell: (e) => e.lTime },
      { title: 'Event', cell: (e) => e.name },
      { title: 'Payload', cell: (e) => h('span', { class: 'mono', text: decodeBase64(e.payload) }) },
      { title: 'Fired', cell: (e) => time(e.at) },
      { title: 'Handled', cell: (e) => (e.lTime <= node.lastEventLTime ? '✓' : '…') },
    ],
  });

  const deploys = keyedTable({
    key: (d) => d.deploy,
    empty: 'No deploy has run on this node.',
    rowProps: (d) => ({ class: ['failed', 'lost', 'timed-out'].includes(d.status) ? 'failed' : '', dataset: { deploy: d.deploy, status: d.status } }),
    columns: [
      { title: 'Deploy', cell: (d) => h('a', { href: `#/deploys/${encodeURIComponent(d.deploy)}`, class: 'mono', text: d.deploy }) },
      { title: 'Target', cell: (d) => d.target },
      { title: 'Batch', class: 'num', cell: (d) => d.batch },
      { title: 'Status', cell: (d) => badge(d.status) },
      { title: 'Exit', class: 'num', cell: (d) => d.exitCode ?? '' },
      { title: 'Started', cell: (d) => time(d.started) },
      { title: 'Took', class: 'num', cell: (d) => took(d.durationMs) },
      { title: 'Why', cell: (d) => d.reason ?? '' },
    ],
  });

  const jobs = keyedTable({
    key: (j) => `${j.build}\n${j.job}\n${j.attempt}`,
    empty: 'No build job has run on this node.',
    rowProps: (j) => ({ class: ['failed', 'lost', 'timed_out'].includes(j.state) ? 'failed' : '', dataset: { build: j.build, job: j.job, state: j.state } }),
    columns: [
      { title: 'Build', cell: (j) => h('a', { href: `#/builds/${encodeURI(j.build)}?job=${encodeURIComponent(j.job)}`, text: `${j.repository} #${j.number}` }) },
      { title: 'Branch', cell: (j) => j.branch },
      { title: 'Job', cell: (j) => h('span', { title: j.job, text: j.label }) },
      { title: 'Attempt', class: 'num', cell: (j) => j.attempt },
      { title: 'State', cell: (j) => badge(j.state) },
      { title: 'Exit', class: 'num', cell: (j) => j.exitStatus ?? '' },
      { title: 'Started', cell: (j) => time(j.started) },
      { title: 'Took', class: 'num', cell: (j) => (j.started && j.finished ? took(new Date(j.finished).getTime() - new Date(j.started).getTime()) : '') },
    ],
  });
  const showJobs = can('build');

  root.append(
    h('div', { class: 'view-head' }, h('h1', null, h('a', { href: '#/nodes', text: 'Nodes' }), ' / ', name), live, actions),
    problem,
    h('div', { class: 'panel' }, details),
    h('h2', null, 'Checks'), checks.element,
    h('h2', null, 'Deploys ', h('span', { class: 'muted', text: '(its part in the last 100)' })), deploys.element,
    ...(showJobs ? [h('h2', null, 'Build jobs ', h('span', { class: 'muted', text: '(the last 100 attempts it ran)' })), jobs.element] : []),
    h('h2', null, 'Member events ', h('span', { class: 'muted', text: `(the last ${EVENTS_KEPT} the node keeps, newest first; pushed as they happen)` })), events.element,
    h('h2', null, 'User events ', h('span', { class: 'muted', text: '(the fleet keeps the last 1,024; ✓ once this node reported it handled)' })), handled.element);

  function renderDetails() {
    replace(details,
      h('dt', null, 'Status'), h('dd', { dataset: { status: node.status } }, badge(node.status), h('span', { class: 'muted', text: ` since ${time(node.statusChanged)} (${age(node.statusChanged)})` })),
      h('dt', null, 'Address'), h('dd', { class: 'mono', text: `${node.addr}:${node.port}` }),
      h('dt', null, 'Tags'), h('dd', null, tagList(node.tags)),
      h('dt', null, 'Silo'), h('dd', { text: node.silo }),
      h('dt', null, 'Joined'), h('dd', { text: time(node.joined) }),
      h('dt', null, 'Last seen'), h('dd', { text: node.status === 'alive' ? 'now (connected)' : time(node.lastSeen) }),
      h('dt', null, 'Incarnation'), h('dd', { text: String(node.incarnation) }),
      h('dt', null, 'Protocol'), h('dd', { text: String(node.protocol) }),
      h('dt', null, 'Last user event handled'), h('dd', { text: String(node.lastEventLTime) }));
    replace(actions, ...(can('nodes:write') ? [
      node.status === 'alive' ? h('button', { type: 'button', on: { click: () => act('leave') } }, 'Ask to leave') : null,
      node.status === 'failed' ? h('button', { type: 'button', class: 'danger', on: { click: () => act('force-leave') } }, 'Force leave') : null,
    ] : []));
  }

  /** @param {'leave' | 'force-leave'} what */
  async function act(what) {
    try {
      await sendJson('POST', `${path}/${what}`, undefined, signal);
      node = await getJson(path, signal);
      renderDetails();
    } catch (error) {
      replace(problem, errorBox(error));
    }
  }

  async function refreshHistory() {
    const list = await getJson('/v1/events', signal);
    handled.update(list.reverse());
  }

  renderDetails();
  const refreshDeploys = coalesced(async () => deploys.update(await getJson(`${path}/deploys`, signal)));
  const refreshJobs = coalesced(async () => jobs.update(await getJson(`${path}/jobs`, signal)));
  await Promise.all([refreshHistory(), refreshDeploys(), showJobs ? refreshJobs() : null]);
  // The node's history is told by the deploy and build grains right after they store a change, and their feeds
  // push the change at the same moment: a feed line makes the page read the history now and once more a second
  // after the last line (the history can be a moment behind the feed). A reopened feed starts with a line too.
  void follow('/v1/deploys?follow=true&limit=1', { signal, onLine: settled(refreshDeploys, signal) });
  if (showJobs) void follow('/v1/builds?follow=true&limit=1', { signal, onLine: settled(refreshJobs, signal) });

  // The kept changes are read when the monitor (re)opens, after it is open, so none falls between the two; lines
  // then add to them (the same change read and pushed shows once: read lists replace, pushed ones are newer).
  let seen = 0;
  async function readMemberEvents() {
    const kept = await getJson(`${path}/member-events`, signal);
    memberEvents = kept.map((/** @type {any} */ e, /** @type {number} */ i) => ({ ...e, key: `kept-${kept.length - i}` }));
    events.update(memberEvents);
  }
  /** @param {string} event @param {string} status @param {Record<string, string> | undefined} tags */
  function pushed(event, status, tags) {
    memberEvents.unshift({ key: `pushed-${++seen}`, at: Date.now(), event, status, tags: tags ?? node.tags, silo: node.silo });
    if (memberEvents.length > EVENTS_KEPT) memberEvents.length = EVENTS_KEPT;
    events.update(memberEvents);
  }
  void follow('/v1/monitor', {
    signal,
    async onOpen() {
      node = await getJson(path, signal);
      renderDetails();
      await readMemberEvents();
    },
    onLine(line) {
      if (line.type === 'user') {
        void refreshHistory().catch(() => {});
        return;
      }
      if (line.type === 'leaving' && line.node === name) {
        node = { ...node, status: 'leaving', statusChanged: new Date().toISOString() };
        pushed('leaving', 'leaving', undefined);
        renderDetails();
        return;
      }
      if (line.type !== 'member' || line.member?.name !== name) return;
      node = { ...node, ...line.member, statusChanged: new Date().toISOString() };
      pushed(line.event, line.member.status, line.member.tags);
      renderDetails();
    },
    onState(state, error) {
      live.className = `live ${state === 'live' ? 'on' : 'off'}`;
      live.textContent = state === 'live' ? 'live' : 'reconnecting';
      if (error) replace(problem, errorBox(error));
    },
  });

  void blockingLoop(async (index, loopSignal) => {
    const response = await request('GET', `/v1/health/node/${encodeURIComponent(name)}${index ? `?index=${index}&wait=5m` : ''}`, { signal: loopSignal });
    checks.update(await response.json());
    return response.headers.get('X-Consul-Index') ?? undefined;
  }, { signal });
}

/** Milliseconds as "850 ms", "12.3 s" or "4 min". @param {number | null | undefined} ms */
function took(ms) {
  if (ms == null || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 90000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60000)} min`;
}

/**
 * A feed line's handler: reads now, and once more a second after the last line of a burst.
 * @param {() => Promise<void>} read @param {AbortSignal} signal
 */
function settled(read, signal) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let later;
  return () => {
    void read().catch(() => {});
    clearTimeout(later);
    later = setTimeout(() => {
      if (!signal.aborted) void read().catch(() => {});
    }, 1000);
  };
}

/**
 * Runs read at most once at a time: a call made while one runs makes one more run after it, so a burst of changes
 * costs two reads, and the last read starts after the last change.
 * @param {() => Promise<void>} read
 */
function coalesced(read) {
  /** @type {Promise<void> | null} */
  let running = null;
  let again = false;
  return async function run() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await read();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
