// @ts-check
// Every view of the dashboard, in nav order. A view is a module whose default export mounts it (see app.js);
// `load: null` keeps a view's place in the nav until it exists.

/**
 * @typedef {{ params: Record<string, string>, query: URLSearchParams, signal: AbortSignal, setQuery: (query: Record<string, string | string[] | undefined>) => void }} ViewContext
 * @typedef {{ default: (root: HTMLElement, context: ViewContext) => void | Promise<void> }} ViewModule
 * @typedef {{ name: string, title: string, pattern: RegExp, load: (() => Promise<ViewModule>) | null, nav?: string | false, scope?: string }} Route
 */

/** @type {Route[]} */
export const routes = [
  { name: 'cluster', title: 'Cluster', pattern: /^cluster$/, load: () => import('./views/cluster.js'), scope: 'nodes:read' },
  { name: 'nodes', title: 'Nodes', pattern: /^nodes$/, load: () => import('./views/nodes.js'), scope: 'nodes:read' },
  { name: 'node', title: 'Node', pattern: /^nodes\/(?<name>[^/]+)$/, load: () => import('./views/node.js'), nav: 'nodes', scope: 'nodes:read' },
  { name: 'events', title: 'Events', pattern: /^events$/, load: () => import('./views/events.js'), scope: 'nodes:read' },
  { name: 'keys', title: 'Keys', pattern: /^keys(?<key>\/.*)?$/, load: () => import('./views/keys.js'), scope: 'keys:read' },
  { name: 'builds', title: 'Builds', pattern: /^builds$/, load: () => import('./views/builds.js'), scope: 'build' },
  { name: 'build', title: 'Build', pattern: /^builds\/(?<id>.+)$/, load: () => import('./views/build.js'), nav: 'builds', scope: 'build' },
  { name: 'deploys', title: 'Deploys', pattern: /^deploys$/, load: () => import('./views/deploys.js'), scope: 'nodes:read' },
  { name: 'deploy', title: 'Deploy', pattern: /^deploys\/(?<id>[^/]+)$/, load: () => import('./views/deploy.js'), nav: 'deploys', scope: 'nodes:read' },
  { name: 'rules', title: 'Rules', pattern: /^rules$/, load: () => import('./views/rules.js'), scope: 'nodes:read' },
];

/** The view shown for an empty hash. */
export const home = 'cluster';
