// @ts-check
// The dashboard's shell: who the tab is, the nav, and hash routing (#/cluster, #/nodes/NAME, #/keys/a/b...). Each
// route's view is mounted into <main> with an AbortSignal that ends its requests and streams when the route changes.
import { ApiError, isAbort, setToken, token } from './lib/api.js';
import { errorBox, h, replace } from './lib/dom.js';
import { can, canSomewhere, identity, load as loadIdentity } from './lib/identity.js';
import { home, routes } from './routes.js';

const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const main = /** @type {HTMLElement} */ (document.getElementById('view'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));
const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('token-dialog'));
const tokenForm = /** @type {HTMLFormElement} */ (document.getElementById('token-form'));
const tokenInput = /** @type {HTMLInputElement} */ (document.getElementById('token-input'));
const tokenReason = /** @type {HTMLElement} */ (document.getElementById('token-reason'));

/** @type {AbortController | null} */
let current = null;

/** The hash as a path and a query: "#/nodes?status=failed" → "nodes", status=failed. */
function parseHash() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const mark = hash.indexOf('?');
  return mark < 0 ? { path: hash, query: new URLSearchParams() } : { path: hash.slice(0, mark), query: new URLSearchParams(hash.slice(mark + 1)) };
}

/** @param {string} path */
function match(path) {
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (found) {
      /** @type {Record<string, string>} */
      const params = {};
      for (const [name, value] of Object.entries(found.groups ?? {})) if (value !== undefined) params[name] = decodeURIComponent(value);
      return { route, params };
    }
  }
  return null;
}

/** @param {string} active the route whose nav item is lit */
function renderNav(active) {
  replace(nav, ...routes.filter((r) => r.nav === undefined).map((r) => {
    const allowed = !r.scope || (r.scope.startsWith('keys:') ? canSomewhere(r.scope, '/') : can(r.scope));
    const classes = ['nav-item', r.load ? '' : 'slot', active === r.name ? 'active' : ''].filter(Boolean).join(' ');
    return h('a', { href: `#/${r.name}`, class: classes, hidden: !allowed, dataset: { route: r.name }, title: r.load ? undefined : 'not in this version yet' }, r.title);
  }));
}

function renderWho() {
  const me = identity();
  if (!me) {
    replace(who);
    return;
  }
  if (me.open) {
    replace(who, h('span', { class: 'muted', title: 'This silo has no tokens and listens on loopback only: everything is allowed.', text: 'open silo, no token needed' }));
    return;
  }
  replace(who,
    h('span', { title: me.scopes.join(' '), text: `token ${me.name}` }),
    h('span', { class: 'muted', text: ` (${me.scopes.join(', ')})` }),
    h('button', { type: 'button', class: 'link', on: { click: signOut } }, 'sign out'));
}

function signOut() {
  setToken('');
  askForToken('Signed out.');
}

/** @param {string} reason */
function askForToken(reason) {
  current?.abort();
  tokenReason.textContent = reason;
  tokenInput.value = '';
  if (!dialog.open) dialog.showModal();
}

/** Mounts the view the hash names, after ending the previous one. */
async function render() {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { signal } = controller;
  const { path, query } = parseHash();
  if (!path) {
    window.location.replace(`#/${home}`);
    return;
  }
  const found = match(path);
  const route = found?.route;
  renderNav(route ? (route.nav || route.name) : '');
  const root = h('section', { class: 'view', dataset: { view: route?.name ?? 'none' } });
  replace(main, root);
  if (!found || !route) {
    root.append(h('h1', null, 'Not found'), h('p', null, `No view at #/${path}. `, h('a', { href: `#/${home}` }, 'Back to the cluster')));
    root.dataset.ready = 'true';
    return;
  }
  document.title = `${route.title} · Platform`;
  if (!route.load) {
    root.append(h('h1', null, route.title), h('p', { class: 'muted' }, 'This view is not in this version yet.'));
    root.dataset.ready = 'true';
    return;
  }
  try {
    const module = await route.load();
    if (signal.aborted) return;
    await module.default(root, {
      params: found.params,
      query,
      signal,
      setQuery(values) {
        const next = new URLSearchParams();
        for (const [name, value] of Object.entries(values)) {
          for (const one of Array.isArray(value) ? value : [value]) if (one) next.append(name, one);
        }
        const text = next.toString();
        window.location.hash = `#/${path}${text ? `?${text}` : ''}`;
      },
    });
  } catch (error) {
    if (signal.aborted || isAbort(error)) return;
    if (!(error instanceof ApiError && error.status === 401)) root.append(errorBox(error));
  }
  if (!signal.aborted) root.dataset.ready = 'true';
}

async function start() {
  // The view's module loads while whoami is asked: neither needs the other (render() awaits the same import).
  void match(parseHash().path)?.route.load?.().catch(() => {});
  try {
    await loadIdentity();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      askForToken(token() ? `This token was refused: ${error.message}` : 'This silo needs an access token.');
      return;
    }
    replace(main, errorBox(error));
    return;
  }
  renderWho();
  await render();
}

tokenForm.addEventListener('submit', () => {
  setToken(tokenInput.value.trim());
  void start();
});
window.addEventListener('platform:unauthorized', (event) => askForToken(`The silo asked for a token: ${/** @type {CustomEvent} */ (event).detail}`));
window.addEventListener('hashchange', () => {
  if (identity()) void render();
});
void start();
