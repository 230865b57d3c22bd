// @ts-check
// One build: its details and jobs, pushed as they change (GET /v1/builds/ID?follow=true), a job's log followed as it
// is written (the running job's by default, or ?job=KEY), cancel and retry for tokens with scope build, and the jobs'
// artifacts.
import { follow, getJson, request, sendJson } from '../lib/api.js';
import { age, badge, errorBox, h, keyedTable, replace, time } from '../lib/dom.js';
import { can } from '../lib/identity.js';
import { logView } from '../lib/logview.js';

const FINAL = ['passed', 'failed', 'canceled', 'timed_out', 'lost', 'skipped', 'broken'];
const ON_AGENT = ['assigned', 'running'];

/** @param {string} id */
export function buildPath(id) {
  return `/v1/builds/${id.split('/').map(encodeURIComponent).join('/')}`;
}

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { params, query, signal }) {
  const id = params.id;
  const path = buildPath(id);
  const chosen = query.get('job');
  /** @type {any} */
  let build = await getJson(path, signal);

  const live = h('span', { class: 'live', text: 'connecting' });
  const state = h('span');
  const actions = h('div', { class: 'actions' });
  const problem = h('div');
  const details = h('dl', { class: 'details' });
  const logTitle = h('h2');
  const logPlace = h('div');

  const jobs = keyedTable({
    key: (j) => j.key,
    empty: 'No jobs yet.',
    rowProps: (j) => ({ class: j.state === 'failed' ? 'failed' : '', dataset: { job: j.key, state: j.state } }),
    columns: [
      { title: 'Job', cell: (j) => h('a', { href: `#/builds/${encodeURI(id)}?job=${encodeURIComponent(j.key)}`, text: j.label || j.key }) },
      { title: 'State', cell: (j) => badge(j.state) },
      { title: 'Attempt', class: 'num', cell: (j) => j.attempt },
      { title: 'Agent', cell: (j) => j.agent ?? '' },
      { title: 'Exit', class: 'num', cell: (j) => (j.exitStatus ?? '') },
      { title: 'Took', cell: (j) => took(j.started, j.finished) },
      { title: 'Artifacts', cell: (j) => artifactList(j.artifacts, signal, problem) },
      { title: 'Error', cell: (j) => h('span', { class: 'mono', text: j.error ?? '' }) },
    ],
  });

  root.append(
    h('div', { class: 'view-head' }, h('h1', null, h('a', { href: '#/builds', text: 'Builds' }), ' / ', id), state, live, actions),
    problem,
    h('div', { class: 'panel' }, details),
    h('h2', null, 'Jobs'), jobs.element,
    logTitle, logPlace);

  /** @type {{ key: string, attempt: number, stop: AbortController } | null} */
  let shown = null;

  function render() {
    replace(state, h('span', { dataset: { buildState: build.state } }, badge(build.state)));
    replace(details,
      h('dt', null, 'Repository'), h('dd', { text: build.repository }),
      h('dt', null, 'Branch'), h('dd', { text: build.branch }),
      h('dt', null, 'Commit'), h('dd', { class: 'mono', text: build.commit || '(the branch head)' }),
      h('dt', null, 'Trigger'), h('dd', { text: `${build.trigger}${build.triggeredBy ? ` by ${build.triggeredBy}` : ''}` }),
      h('dt', null, 'Created'), h('dd', { text: `${time(build.created)} (${age(build.created)} ago)` }),
      h('dt', null, 'Took'), h('dd', { text: took(build.started, build.finished) }),
      build.error ? h('dt', null, 'Error') : null, build.error ? h('dd', { class: 'mono', text: build.error }) : null);
    const final = FINAL.includes(build.state);
    replace(actions, ...(can('build') ? [
      !final ? h('button', { type: 'button', class: 'danger', dataset: { action: 'cancel' }, on: { click: () => act('cancel') } }, 'Cancel') : null,
      final && build.state !== 'passed' && build.state !== 'skipped' ? h('button', { type: 'button', dataset: { action: 'retry' }, on: { click: () => act('retry') } }, 'Retry') : null,
    ] : []));
    jobs.update(build.jobs ?? []);
    showLog();
  }

  /** The job whose log is shown: the one asked for, else one on an agent, else the last that failed, else the last. */
  function pick() {
    const list = build.jobs ?? [];
    if (chosen) return list.find((/** @type {any} */ j) => j.key === chosen);
    return list.find((/** @type {any} */ j) => ON_AGENT.includes(j.state))
      ?? [...list].reverse().find((/** @type {any} */ j) => ['failed', 'timed_out', 'lost'].includes(j.state))
      ?? [...list].reverse().find((/** @type {any} */ j) => j.state !== 'waiting' && j.state !== 'skipped' && j.state !== 'broken')
      ?? list[list.length - 1];
  }

  function showLog() {
    const job = pick();
    if (!job) return;
    if (shown && shown.key === job.key && shown.attempt === job.attempt) return;
    shown?.stop.abort();
    const stop = new AbortController();
    signal.addEventListener('abort', () => stop.abort(), { once: true });
    shown = { key: job.key, attempt: job.attempt, stop };
    replace(logTitle, 'Log of ', job.label || job.key, h('span', { class: 'muted', text: ` (attempt ${job.attempt})` }));
    const view = logView(`${path}/jobs/${encodeURIComponent(job.key)}/log`, {
      follow: !FINAL.includes(job.state),
      signal: stop.signal,
      onError: (error) => replace(problem, errorBox(error)),
    });
    replace(logPlace, view.element);
  }

  /** @param {'cancel' | 'retry'} what */
  async function act(what) {
    try {
      build = await sendJson('POST', `${path}/${what}`, undefined, signal);
      render();
    } catch (error) {
      replace(problem, errorBox(error));
    }
  }

  render();
  void follow(`${path}?follow=true`, {
    signal,
    onLine(line) {
      if (line.type !== 'build' || !line.build) return;
      build = line.build;
      render();
    },
    onState(status, error) {
      live.className = `live ${status === 'live' ? 'on' : 'off'}`;
      live.textContent = status === 'live' ? 'live' : 'reconnecting';
      if (error) replace(problem, errorBox(error));
    },
  });
}

/** @param {string | null | undefined} started @param {string | null | undefined} finished */
function took(started, finished) {
  if (!started) return '';
  const ms = (finished ? new Date(finished).getTime() : Date.now()) - new Date(started).getTime();
  const seconds = Math.max(0, Math.round(ms / 1000));
  const text = seconds < 90 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return finished ? text : `${text} so far`;
}

/**
 * Artifacts as links that download with the tab's token (a plain link could not send it).
 * @param {any[] | undefined} artifacts @param {AbortSignal} signal @param {HTMLElement} problem
 */
function artifactList(artifacts, signal, problem) {
  if (!artifacts?.length) return '';
  return h('ul', { class: 'artifacts' }, ...artifacts.map((a) => {
    const url = `/v1/artifacts/${String(a.name).split('/').map(encodeURIComponent).join('/')}`;
    return h('li', null, h('a', {
      href: url,
      dataset: { artifact: a.name },
      on: {
        /** @param {MouseEvent} event */
        async click(event) {
          event.preventDefault();
          try {
            const blob = await (await request('GET', url, { signal })).blob();
            const link = h('a', { href: URL.createObjectURL(blob), download: String(a.name).split('/').pop() });
            link.click();
            setTimeout(() => URL.revokeObjectURL(/** @type {HTMLAnchorElement} */ (link).href), 10000);
          } catch (error) {
            replace(problem, errorBox(error));
          }
        },
      },
    }, a.name.split('/').slice(-1)[0]), h('span', { class: 'muted', text: ` ${size(a.size)}` }));
  }));
}

/** @param {number} bytes */
function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
