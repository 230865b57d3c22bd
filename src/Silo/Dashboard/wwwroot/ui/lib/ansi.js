// @ts-check
// ANSI SGR colour codes of build output as spans with classes (the stylesheet colours them; the CSP allows no inline
// style). Only SGR (ESC [ ... m) is kept: the 16 colours, bold, dim, italic, underline; 256-colour codes map their
// first 16 and drop the rest; every other escape sequence is removed. Text is only ever set as textContent.

/** @typedef {{ fg: number, bg: number, bold: boolean, dim: boolean, italic: boolean, underline: boolean }} AnsiState */

/** A state with no colour or style: pass it to the first line, then the same object to every following line. */
export function ansiState() {
  return /** @type {AnsiState} */ ({ fg: -1, bg: -1, bold: false, dim: false, italic: false, underline: false });
}

// CSI sequences (SGR and others), OSC sequences (ended by BEL or ESC \), and lone two-byte escapes.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[([0-9;?]*)([@-~])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]?/g;

/**
 * One line of output as nodes: text with no style as text nodes, styled text in spans with classes ansi-fg-N,
 * ansi-bg-N (N 0 to 15), ansi-bold, ansi-dim, ansi-italic, ansi-underline. A carriage return keeps what follows the
 * last one, as a terminal shows a progress line. The state carries colours over to the next line.
 * @param {string} line without its newline
 * @param {AnsiState} state
 * @returns {Node[]}
 */
export function ansiLine(line, state) {
  const cr = line.lastIndexOf('\r', line.length - 2);
  if (cr >= 0) line = line.slice(cr + 1);
  if (line.endsWith('\r')) line = line.slice(0, -1);
  /** @type {Node[]} */
  const nodes = [];
  let at = 0;
  ESCAPES.lastIndex = 0;
  for (let match; (match = ESCAPES.exec(line)) !== null;) {
    if (match.index > at) nodes.push(piece(line.slice(at, match.index), state));
    if (match[2] === 'm') apply(match[1], state);
    at = ESCAPES.lastIndex;
  }
  if (at < line.length) nodes.push(piece(line.slice(at), state));
  return nodes;
}

/** @param {string} text @param {AnsiState} state */
function piece(text, state) {
  const classes = [];
  if (state.fg >= 0) classes.push(`ansi-fg-${state.fg}`);
  if (state.bg >= 0) classes.push(`ansi-bg-${state.bg}`);
  if (state.bold) classes.push('ansi-bold');
  if (state.dim) classes.push('ansi-dim');
  if (state.italic) classes.push('ansi-italic');
  if (state.underline) classes.push('ansi-underline');
  if (classes.length === 0) return document.createTextNode(text);
  const span = document.createElement('span');
  span.className = classes.join(' ');
  span.textContent = text;
  return span;
}

/** Applies SGR parameters ("1;31", "" is a reset). @param {string} params @param {AnsiState} state */
function apply(params, state) {
  const codes = params === '' ? [0] : params.split(';').map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(state, ansiState());
    else if (code === 1) state.bold = true;
    else if (code === 2) state.dim = true;
    else if (code === 3) state.italic = true;
    else if (code === 4) state.underline = true;
    else if (code === 22) state.bold = state.dim = false;
    else if (code === 23) state.italic = false;
    else if (code === 24) state.underline = false;
    else if (code >= 30 && code <= 37) state.fg = code - 30;
    else if (code >= 90 && code <= 97) state.fg = code - 90 + 8;
    else if (code === 39) state.fg = -1;
    else if (code >= 40 && code <= 47) state.bg = code - 40;
    else if (code >= 100 && code <= 107) state.bg = code - 100 + 8;
    else if (code === 49) state.bg = -1;
    else if ((code === 38 || code === 48) && codes[i + 1] === 5) {
      const n = codes[i + 2];
      const colour = Number.isInteger(n) && n >= 0 && n < 16 ? n : -1;
      if (code === 38) state.fg = colour;
      else state.bg = colour;
      i += 2;
    } else if ((code === 38 || code === 48) && codes[i + 1] === 2) {
      // 24-bit colour: no class can hold it; the text keeps the default colour.
      if (code === 38) state.fg = -1;
      else state.bg = -1;
      i += 4;
    }
  }
}
