// @ts-check
// Keys: the keyspace as a tree, through etcd's /v2/keys or Consul's /v1/kv (the same keys: etcd's /a/b is Consul's
// a/b); a key's value, TTL and indexes; a live watch (etcd's ?wait=true&waitIndex=, one long poll after another);
// and set / delete for tokens that may write. Directories are read when opened, so a large keyspace is not loaded whole.
import { ApiError, blockingLoop, decodeBase64, getJson, request } from '../lib/api.js';
import { errorBox, h, keyedTable, replace, time } from '../lib/dom.js';
import { can, canSomewhere } from '../lib/identity.js';

const WATCH_KEPT = 100;

/** @param {HTMLElement} root @param {import('../routes.js').ViewContext} context */
export default async function mount(root, { params, signal }) {
  /** @type {'etcd' | 'consul'} */
  let api = 'etcd';
  const tree = h('ul', { class: 'tree tree-root', dataset: { tree: 'keys' } });
  const detail = h('div', { class: 'panel', dataset: { panel: 'key' } }, h('p', { class: 'muted', text: 'Choose a key.' }));
  const problem = h('div');
  /** @type {AbortController | null} */
  let selection = null;
  /** @type {HTMLElement | null} */
  let selectedButton = null;

  const switcher = h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'primary', dataset: { api: 'etcd' }, on: { click: () => use('etcd') } }, 'etcd /v2/keys'),
    h('button', { type: 'button', dataset: { api: 'consul' }, on: { click: () => use('consul') } }, 'Consul /v1/kv'));

  root.append(
    h('div', { class: 'view-head' }, h('h1', null, 'Keys'), switcher),
    problem,
    canSomewhere('keys:write', '/') ? writeForm() : null,
    h('div', { class: 'columns' }, h('div', { class: 'panel' }, tree), detail));

  /** @param {'etcd' | 'consul'} which */
  async function use(which) {
    api = which;
    for (const button of switcher.querySelectorAll('button')) button.className = button.dataset.api === which ? 'primary' : '';
    await openDir(tree, '/');
  }

  /**
   * Reads one directory's children into list (etcd: the dir's nodes; Consul: ?keys&separator=/ under its prefix).
   * @param {HTMLElement} list @param {string} dir a key path ending in '/'
   */
  async function openDir(list, dir) {
    /** @type {{ key: string, dir: boolean }[]} */
    let children = [];
    try {
      if (api === 'etcd') {
        const answer = await getJson(`/v2/keys${encodePath(dir === '/' ? '/' : dir.slice(0, -1))}?sorted=true`, signal);
        children = (answer.node?.nodes ?? []).map((/** @type {any} */ n) => ({ key: n.key, dir: !!n.dir }));
      } else {
        const prefix = dir.slice(1);
        const names = await consulKeys(prefix);
        children = names.filter((n) => n !== prefix).map((n) => ({ key: '/' + n.replace(/\/$/, ''), dir: n.endsWith('/') }));
      }
      problem.replaceChildren();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) replace(problem, errorBox(error));
    }
    children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    replace(list, ...children.map((child) => (child.dir ? dirItem(child.key) : leafItem(child.key))));
    if (children.length === 0) list.append(h('li', { class: 'muted', text: '(empty)' }));
  }

  /** Consul's key list: a 404 is an empty prefix. @param {string} prefix */
  async function consulKeys(prefix) {
    try {
      return await getJson(`/v1/kv/${encodePath(prefix)}?keys&separator=/`, signal);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return [];
      throw error;
    }
  }

  /** @param {string} key */
  function dirItem(key) {
    const children = h('ul', { class: 'tree', hidden: true });
    const item = h('li', { class: 'dir' });
    const button = h('button', { type: 'button', dataset: { dir: key }, on: { click: toggle } }, baseName(key) + '/');
    item.append(button, children);
    async function toggle() {
      const open = !item.classList.contains('open');
      item.classList.toggle('open', open);
      children.hidden = !open;
      if (open) await openDir(children, key + '/');
    }
    return item;
  }

  /** @param {string} key */
  function leafItem(key) {
    const button = h('button', { type: 'button', dataset: { key }, on: { click: () => select(key, button) } }, baseName(key));
    return h('li', { class: 'leaf' }, button);
  }

  /** Shows a key and stops watching the one shown before. @param {string} key @param {HTMLElement | null} button */
  async function select(key, button) {
    selection?.abort();
    const controller = new AbortController();
    selection = controller;
    const keySignal = AbortSignal.any([signal, controller.signal]);
    selectedButton?.classList.remove('selected');
    selectedButton = button;
    button?.classList.add('selected');
    try {
      replace(detail, ...(api === 'etcd' ? await etcdDetail(key, keySignal) : await consulDetail(key, keySignal)));
    } catch (error) {
      replace(detail, h('h2', { class: 'mono', text: key }), errorBox(error));
    }
  }

  /** @param {string} key @param {AbortSignal} keySignal */
  async function etcdDetail(key, keySignal) {
    const answer = await getJson(`/v2/keys${encodePath(key)}`, keySignal);
    const node = answer.node;
    const value = h('pre', { class: 'value', dataset: { value: key }, text: node.value ?? '' });
    const facts = h('dl', { class: 'details' });
    const showFacts = (/** @type {any} */ n) => replace(facts,
      h('dt', null, 'TTL'), h('dd', { text: n.ttl ? `${n.ttl} s (expires ${time(n.expiration)})` : 'none' }),
      h('dt', null, 'Created index'), h('dd', { text: String(n.createdIndex ?? '') }),
      h('dt', null, 'Modified index'), h('dd', { dataset: { modifiedIndex: String(n.modifiedIndex ?? '') }, text: String(n.modifiedIndex ?? '') }));
    showFacts(node);
    /** @type {any[]} */
    const changes = [];
    const watchTable = keyedTable({
      key: (c) => String(c.modifiedIndex),
      empty: 'Watching: nothing changed yet.',
      rowProps: (c) => ({ dataset: { watchIndex: String(c.modifiedIndex) } }),
      columns: [
        { title: 'Seen', cell: (c) => time(c.at) },
        { title: 'Action', cell: (c) => c.action },
        { title: 'Index', class: 'num', cell: (c) => c.modifiedIndex },
        { title: 'Value', cell: (c) => h('span', { class: 'mono', text: c.value ?? '' }) },
      ],
    });
    watchTable.element.hidden = true;
    /** @type {AbortController | null} */
    let watching = null;
    const watchButton = h('button', { type: 'button', dataset: { action: 'watch' }, on: { click: toggleWatch } }, 'Watch');

    function toggleWatch() {
      if (watching) {
        watching.abort();
        watching = null;
        watchButton.textContent = 'Watch';
        return;
      }
      const controller = new AbortController();
      watching = controller;
      watchButton.textContent = 'Stop watching';
      watchTable.element.hidden = false;
      const watchSignal = AbortSignal.any([keySignal, controller.signal]);
      let next = (node.modifiedIndex ?? 0) + 1;
      void blockingLoop(async (_, loopSignal) => {
        let change;
        try {
          change = await getJson(`/v2/keys${encodePath(key)}?wait=true&waitIndex=${next}`, loopSignal);
        } catch (error) {
          // etcd's 401 "event index cleared": the history no longer holds `next`; read the key and go on from now.
          if (!(error instanceof ApiError && error.status === 400)) throw error;
          const now = await request('GET', `/v2/keys${encodePath(key)}`, { signal: loopSignal });
          next = Number(now.headers.get('X-Etcd-Index') ?? next) + 1;
          return next;
        }
        next = change.node.modifiedIndex + 1;
        changes.unshift({ at: Date.now(), action: change.action, modifiedIndex: change.node.modifiedIndex, value: change.node.value });
        if (changes.length > WATCH_KEPT) changes.length = WATCH_KEPT;
        watchTable.update(changes);
        if (change.node.value !== undefined) value.textContent = change.node.value;
        showFacts(change.node);
        return next;
      }, { signal: watchSignal, onError: (error) => watchTable.element.before(errorBox(error)) });
    }

    const actions = h('div', { class: 'actions' }, watchButton,
      can('keys:write', key) ? h('button', { type: 'button', class: 'danger', on: { click: () => remove(key) } }, 'Delete') : null);
    return [h('h2', { class: 'mono', text: key }), value, facts, actions, watchTable.element];
  }

  /** @param {string} key @param {AbortSignal} keySignal */
  async function consulDetail(key, keySignal) {
    const [entry] = await getJson(`/v1/kv/${encodePath(key.slice(1))}`, keySignal);
    return [
      h('h2', { class: 'mono', text: entry.Key }),
      h('pre', { class: 'value', dataset: { value: key }, text: decodeBase64(entry.Value) }),
      h('dl', { class: 'details' },
        h('dt', null, 'CreateIndex'), h('dd', { text: String(entry.CreateIndex) }),
        h('dt', null, 'ModifyIndex'), h('dd', { text: String(entry.ModifyIndex) }),
        h('dt', null, 'LockIndex'), h('dd', { text: String(entry.LockIndex) }),
        h('dt', null, 'Flags'), h('dd', { text: String(entry.Flags) }),
        h('dt', null, 'Session'), h('dd', { text: entry.Session ?? 'none' })),
    ];
  }

  /** @param {string} key */
  async function remove(key) {
    try {
      await request('DELETE', `/v2/keys${encodePath(key)}`, { signal });
      replace(detail, h('p', { class: 'muted', text: `Deleted ${key}.` }));
      await openDir(tree, '/');
    } catch (error) {
      replace(problem, errorBox(error));
    }
  }

  function writeForm() {
    const key = /** @type {HTMLInputElement} */ (h('input', { name: 'key', required: true, placeholder: '/app/config', size: 24 }));
    const value = /** @type {HTMLInputElement} */ (h('input', { name: 'value', placeholder: 'value', size: 24 }));
    const ttl = /** @type {HTMLInputElement} */ (h('input', { name: 'ttl', placeholder: 'seconds', size: 6 }));
    return h('form', { class: 'inline', dataset: { form: 'set-key' }, on: { submit } },
      h('label', null, 'Key', key), h('label', null, 'Value', value), h('label', null, 'TTL', ttl),
      h('button', { type: 'submit', class: 'primary' }, 'Set (etcd PUT)'));

    /** @param {Event} event */
    async function submit(event) {
      event.preventDefault();
      const path = key.value.trim().startsWith('/') ? key.value.trim() : '/' + key.value.trim();
      const body = new URLSearchParams({ value: value.value });
      if (ttl.value.trim()) body.set('ttl', ttl.value.trim());
      try {
        await request('PUT', `/v2/keys${encodePath(path)}`, { body, signal });
        problem.replaceChildren();
        await openDir(tree, '/');
        await select(path, null);
      } catch (error) {
        replace(problem, errorBox(error));
      }
    }
  }

  await use('etcd');
  if (params.key && params.key !== '/') await select(params.key, null);
}

/** Each segment percent-encoded, the slashes kept. @param {string} path */
function encodePath(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** @param {string} key */
function baseName(key) {
  return key.slice(key.lastIndexOf('/') + 1) || key;
}
