// @ts-check
// Small live charts: the last N samples in a fixed ring (a page left open for hours holds no more), drawn as SVG.
import { h } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

/** A fixed-size ring of numbers: push forgets the oldest once full. */
export class Ring {
  /** @param {number} capacity */
  constructor(capacity) {
    this.values = new Float64Array(capacity);
    this.start = 0;
    this.count = 0;
  }

  /** @param {number} value */
  push(value) {
    const capacity = this.values.length;
    if (this.count < capacity) {
      this.values[(this.start + this.count) % capacity] = value;
      this.count++;
    } else {
      this.values[this.start] = value;
      this.start = (this.start + 1) % capacity;
    }
  }

  /** The samples, oldest first. */
  toArray() {
    const out = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.values[(this.start + i) % this.values.length];
    return out;
  }

  last() {
    return this.count === 0 ? NaN : this.values[(this.start + this.count - 1) % this.values.length];
  }
}

/**
 * A sparkline card: title, latest value and a line over the ring's samples. draw() redraws the same SVG elements.
 * @param {{ title: string, ring: Ring, format: (value: number) => string, width?: number, height?: number }} spec
 */
export function sparkline(spec) {
  const width = spec.width ?? 240;
  const height = spec.height ?? 48;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'spark');
  const area = document.createElementNS(SVG, 'polygon');
  area.setAttribute('class', 'spark-area');
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('class', 'spark-line');
  svg.append(area, line);
  const value = h('span', { class: 'spark-value' });
  const scale = h('span', { class: 'spark-scale' });
  const element = h('figure', { class: 'card spark-card' }, h('figcaption', null, spec.title, ' ', value), svg, scale);

  function draw() {
    const samples = spec.ring.toArray();
    const capacity = spec.ring.values.length;
    const max = Math.max(1e-9, ...samples);
    const step = width / Math.max(1, capacity - 1);
    const offset = (capacity - samples.length) * step;
    const points = samples.map((v, i) => `${(offset + i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
    line.setAttribute('points', points.join(' '));
    area.setAttribute('points', points.length ? `${offset.toFixed(1)},${height} ${points.join(' ')} ${width},${height}` : '');
    value.textContent = samples.length ? spec.format(samples[samples.length - 1]) : '';
    scale.textContent = samples.length ? `max ${spec.format(max)}` : '';
  }

  draw();
  return { element, draw };
}
