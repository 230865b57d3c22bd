// @ts-check
// A job log on the page: its tail (GET ...?tail=N, from a line start), followed as it is written (&follow=true), with
// ANSI colours; "Load earlier" reads the bytes before what is shown (Range). Bounded: while it follows, the oldest
// lines leave the page beyond MAX_LINES (they can be loaded again), and only one unfinished line is buffered.
import { ApiError, pause, request } from './api.js';
import { ansiLine, ansiState } from './ansi.js';
import { h } from './dom.js';

const TAIL = 64 * 1024;
const EARLIER = 64 * 1024;
const MAX_LINES = 2000;
const MAX_LINE = 64 * 1024;
const NEWLINE = 10;

/**
 * @param {string} path the log's URL (no query)
 * @param {{ follow: boolean, signal: AbortSignal, onError: (error: unknown) => void }} options
 */
export function logView(path, options) {
  const lines = h('pre', { class: 'log build-log', dataset: { log: path } });
  const earlier = h('button', { type: 'button', class: 'link', hidden: true, on: { click: loadEarlier } }, 'Load earlier');
  const status = h('span', { class: 'muted' });
  const element = h('div', { class: 'log-view' }, h('div', { class: 'log-bar' }, earlier, status), lines);
  const decoder = new TextDecoder();
  const state = ansiState();
  /** Byte offset of the first line shown. */
  let first = 0;
  let limit = MAX_LINES;

  /** One line as an element; the state carries colours from line to line. @param {number} offset @param {Uint8Array} bytes @param {import('./ansi.js').AnsiState} colours */
  function lineOf(offset, bytes, colours) {
    return h('div', { dataset: { offset: String(offset) } }, ...ansiLine(decoder.decode(bytes), colours));
  }

  /**
   * Appends the lines of one read at once (one layout per read, not per line); past the limit the oldest leave.
   * @param {Array<[number, Uint8Array]>} batch
   */
  function appendLines(batch) {
    if (batch.length === 0) return;
    const atBottom = lines.scrollHeight - lines.scrollTop - lines.clientHeight < 24;
    const fragment = document.createDocumentFragment();
    const skip = Math.max(0, batch.length - limit);
    batch.forEach(([offset, bytes], i) => {
      if (i < skip) ansiLine(decoder.decode(bytes), state);
      else fragment.append(lineOf(offset, bytes, state));
    });
    lines.append(fragment);
    let excess = lines.childElementCount - limit;
    while (excess-- > 0 && lines.firstElementChild) lines.firstElementChild.remove();
    const head = /** @type {HTMLElement | null} */ (lines.firstElementChild);
    if (head && Number(head.dataset.offset) > first) {
      first = Number(head.dataset.offset);
      earlier.hidden = false;
    }
    if (atBottom) lines.scrollTop = lines.scrollHeight;
  }

  /**
   * Reads the tail, then (following) what is written after it. A stream that ends is the attempt's end; one that
   * breaks (the silo restarted, the network dropped) is opened again from the last whole line shown, for the same
   * attempt, after a pause that grows to 5 s, until the page leaves.
   */
  async function start() {
    let offset = 0;
    /** @type {string | null} */
    let attempt = null;
    let wait = 500;
    for (let resumed = false; ; resumed = true) {
      try {
        const query = resumed ? `from=${offset}&attempt=${attempt}` : `tail=${TAIL}`;
        const response = await request('GET', `${path}?${query}${options.follow ? '&follow=true' : ''}`, { signal: options.signal });
        if (!resumed) {
          offset = Number(response.headers.get('X-Platform-Log-Offset') ?? '0');
          attempt = response.headers.get('X-Platform-Attempt');
          first = offset;
          earlier.hidden = first === 0;
        }
        status.textContent = options.follow ? 'following' : '';
        if (!response.body) return;
        const reader = response.body.getReader();
        /** @type {Uint8Array} */
        let pending = new Uint8Array(0);
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          wait = 500;
          let bytes = pending.length ? concat(pending, value) : value;
          /** @type {Array<[number, Uint8Array]>} */
          const batch = [];
          let at = 0;
          for (let nl = bytes.indexOf(NEWLINE, at); nl >= 0; nl = bytes.indexOf(NEWLINE, at)) {
            batch.push([offset, bytes.subarray(at, nl)]);
            offset += nl + 1 - at;
            at = nl + 1;
          }
          bytes = bytes.subarray(at);
          // A line that never ends is shown in pieces rather than held.
          if (bytes.length > MAX_LINE) {
            batch.push([offset, bytes]);
            offset += bytes.length;
            bytes = new Uint8Array(0);
          }
          appendLines(batch);
          pending = bytes.slice();
        }
        if (pending.length) appendLines([[offset, pending]]);
        status.textContent = '';
        return;
      } catch (error) {
        if (options.signal.aborted) return;
        // Without an attempt (the first answer never came), following nothing, or refused (a 4xx: retrying cannot help),
        // there is nothing to resume.
        if (!options.follow || attempt === null || (error instanceof ApiError && error.status < 500)) {
          options.onError(error);
          return;
        }
        status.textContent = 'reconnecting';
        await pause(wait, options.signal);
        wait = Math.min(wait * 2, 5000);
        if (options.signal.aborted) return;
      }
    }
  }

  async function loadEarlier() {
    if (first === 0) return;
    const from = Math.max(0, first - EARLIER);
    try {
      const response = await request('GET', path, { signal: options.signal, headers: { Range: `bytes=${from}-${first - 1}` } });
      let bytes = new Uint8Array(await response.arrayBuffer());
      let offset = from;
      // Start at a line start: the part line before it is read with the next "earlier".
      if (from > 0) {
        const nl = bytes.indexOf(NEWLINE);
        if (nl >= 0 && nl < bytes.length - 1) {
          offset += nl + 1;
          bytes = bytes.subarray(nl + 1);
        }
      }
      // Earlier lines start without colour: what was set before them is not known.
      const colours = ansiState();
      const fragment = document.createDocumentFragment();
      let at = 0;
      for (let nl = bytes.indexOf(NEWLINE); nl >= 0; nl = bytes.indexOf(NEWLINE, at)) {
        fragment.append(lineOf(offset + at, bytes.subarray(at, nl), colours));
        at = nl + 1;
      }
      if (at < bytes.length) fragment.append(lineOf(offset + at, bytes.subarray(at), colours));
      limit += fragment.childElementCount;
      lines.insertBefore(fragment, lines.firstChild);
      first = offset;
      earlier.hidden = first === 0;
    } catch (error) {
      if (!options.signal.aborted) options.onError(error);
    }
  }

  void start();
  return { element };
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function concat(a, b) {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
