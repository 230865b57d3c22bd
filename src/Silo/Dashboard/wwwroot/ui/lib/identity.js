// @ts-check
// Who the tab is (GET /v1/access/whoami) and what its scopes allow: views hide the buttons a token cannot use.
import { getJson } from './api.js';

/** @typedef {{ name: string, scopes: string[], open: boolean, expiresAt: string | null }} Identity */

/** @type {Identity | null} */
let current = null;

/** Asks the silo who the tab's token is; throws ApiError 401 when a token is needed. */
export async function load() {
  current = await getJson('/v1/access/whoami');
  return current;
}

export function identity() {
  return current;
}

/**
 * Whether the token holds scope (for keys scopes: on key), by the silo's rules: admin allows everything, keys:write
 * implies keys:read, keys:read:/prefix/ only keys under the prefix. An open silo allows everything.
 * @param {string} scope @param {string} [key]
 */
export function can(scope, key) {
  if (!current) return false;
  if (current.open) return true;
  return current.scopes.some((granted) => {
    if (granted === 'admin') return true;
    const match = /^(keys:read|keys:write)(?::(.*))?$/.exec(granted);
    if (match) {
      const name = match[1];
      const allows = name === scope || (name === 'keys:write' && scope === 'keys:read');
      if (!allows) return false;
      return match[2] === undefined || (key !== undefined && key.startsWith(match[2]));
    }
    return granted === scope;
  });
}

/**
 * Whether the token may use some key under prefix (a prefixed keys scope below it counts): decides whether the keys
 * view shows its write form at all.
 * @param {string} scope @param {string} prefix
 */
export function canSomewhere(scope, prefix) {
  if (can(scope, prefix)) return true;
  return (current?.scopes ?? []).some((granted) => {
    const match = /^(keys:read|keys:write):(.*)$/.exec(granted);
    return !!match && (match[1] === scope || (match[1] === 'keys:write' && scope === 'keys:read')) && match[2].startsWith(prefix);
  });
}
