// @ts-check
// The dashboard's only way to the silo: the public API, with the tab's token. Every view reuses it.

const TOKEN_KEY = 'platform.token';

/** An API answer that was not 2xx: its status and the API's own message ({"error": ...}, etcd's or Consul's). */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** The token of this tab (sessionStorage: it goes when the tab closes), or ''. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** @param {string} value */
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** @param {HeadersInit | undefined} extra */
function headersWith(extra) {
  const headers = new Headers(extra);
  const secret = token();
  if (secret) headers.set('Authorization', 'Bearer ' + secret);
  return headers;
}

/** @param {Response} response */
async function messageOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'string') return body.error;
    if (body && typeof body.message === 'string') return body.message + (body.cause ? ` (${body.cause})` : '');
  } catch {
    // not JSON: Consul's plain-text errors
  }
  return text.trim() || `${response.status} ${response.statusText}`;
}

/**
 * Sends a request with the token; a 401 also tells the shell (event 'platform:unauthorized') so it asks for a token.
 * @param {string} method
 * @param {string} path
 * @param {{ body?: BodyInit, signal?: AbortSignal, headers?: HeadersInit }} [options]
 * @returns {Promise<Response>}
 */
export async function request(method, path, options = {}) {
  const response = await fetch(path, { method, headers: headersWith(options.headers), body: options.body, signal: options.signal, cache: 'no-store' });
  if (response.ok) return response;
  const error = new ApiError(response.status, await messageOf(response));
  if (response.status === 401) window.dispatchEvent(new CustomEvent('platform:unauthorized', { detail: error.message }));
  throw error;
}

/** GET and parse JSON. @param {string} path @param {AbortSignal} [signal] */
export async function getJson(path, signal) {
  return (await request('GET', path, { signal })).json();
}

/**
 * Sends a JSON body (or none) and parses a JSON answer (null when empty).
 * @param {string} method @param {string} path @param {unknown} [value] @param {AbortSignal} [signal]
 */
export async function sendJson(method, path, value, signal) {
  const options = value === undefined ? { signal } : { signal, body: JSON.stringify(value), headers: { 'Content-Type': 'application/json' } };
  const text = await (await request(method, path, options)).text();
  return text ? JSON.parse(text) : null;
}

/**
 * Reads an NDJSON answer as it arrives, calling onLine with each parsed line. Only the unfinished line is buffered,
 * so a stream left open for hours holds no more than one line.
 * @param {Response} response @param {(line: any) => void} onLine
 */
export async function readNdjson(response, onLine) {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  if (pending.trim()) onLine(JSON.parse(pending));
}

/** Resolves after ms, or at once when the signal aborts. @param {number} ms @param {AbortSignal} signal */
export function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(undefined);
    }
  });
}

/** @param {unknown} error */
export function isAbort(error) {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * Follows a streaming GET (NDJSON, such as /v1/monitor) until the signal aborts: onOpen runs once the answer's headers
 * are in (before any line), each line goes to onLine; when the stream ends or fails it is opened again after a pause
 * (1 s, then up to 10 s), and onOpen runs again, so a view can reread what it may have missed.
 * @param {string} path
 * @param {{ signal: AbortSignal, onLine: (line: any) => void, onOpen?: () => void | Promise<void>, onState?: (state: 'live' | 'retrying', error?: unknown) => void }} options
 */
export async function follow(path, options) {
  const { signal } = options;
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const response = await request('GET', path, { signal });
      options.onState?.('live');
      delay = 1000;
      await options.onOpen?.();
      await readNdjson(response, options.onLine);
    } catch (error) {
      if (signal.aborted || isAbort(error)) return;
      options.onState?.('retrying', error);
    }
    await pause(delay, signal);
    delay = Math.min(delay * 2, 10000);
  }
}

/**
 * Repeats a blocking query (etcd ?wait=true, Consul ?index=) until the signal aborts: each call gets the previous
 * answer's index and returns the next one. Failures wait a little and retry.
 * @template T
 * @param {(index: T | undefined, signal: AbortSignal) => Promise<T>} poll
 * @param {{ signal: AbortSignal, onError?: (error: unknown) => void }} options
 */
export async function blockingLoop(poll, options) {
  const { signal } = options;
  /** @type {T | undefined} */
  let index;
  while (!signal.aborted) {
    try {
      index = await poll(index, signal);
    } catch (error) {
      if (signal.aborted || isAbort(error)) return;
      options.onError?.(error);
      await pause(2000, signal);
    }
  }
}

/** Base64 (the API's byte payloads) to text, as UTF-8. @param {string | null | undefined} base64 */
export function decodeBase64(base64) {
  if (!base64) return '';
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
