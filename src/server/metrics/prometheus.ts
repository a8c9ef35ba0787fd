/**
 * A small Prometheus registry: counters, gauges (set or read on scrape) and histograms with labels,
 * written in the text exposition format 0.0.4. No dependency; the registry only needs a handful.
 */

export type Labels = Record<string, string>;

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels): string => {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(labels[k] as string)}"`).join(',')}}`;
};
const num = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

interface Metric {
  name: string;
  help: string;
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values].map(([l, v]) => `${this.name}${l} ${num(v)}`)];
  }
}

/** A gauge whose samples are read at scrape time, so it can never drift from the truth it reports. */
export class Gauge implements Metric {
  constructor(readonly name: string, readonly help: string, private readonly read: () => Array<{ labels?: Labels; value: number }>) {}
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...this.read().map((s) => `${this.name}${labelText(s.labels ?? {})} ${num(s.value)}`)];
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, private readonly bucketBounds: readonly number[]) {}
  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: this.bucketBounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    this.bucketBounds.forEach((b, i) => {
      if (value <= b) (s as { counts: number[] }).counts[i] = ((s as { counts: number[] }).counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.bucketBounds.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(b) })} ${s.counts[i] ?? 0}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`, `${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  register<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.push(m);
    return m;
  }
  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }
  gauge(name: string, help: string, read: () => Array<{ labels?: Labels; value: number }>): Gauge {
    return this.register(new Gauge(name, help, read));
  }
  histogram(name: string, help: string, bucketBounds: readonly number[]): Histogram {
    return this.register(new Histogram(name, help, bucketBounds));
  }
  /** The text exposition format: `Content-Type: text/plain; version=0.0.4`. */
  render(): string {
    return `${this.metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
