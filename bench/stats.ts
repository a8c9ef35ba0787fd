/** Small numeric helpers and the text tables the bench prints. */

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export const MiB = 1024 * 1024;

export function mibPerSec(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000);
}

/** Runs `count` jobs with at most `concurrency` in flight; resolves when all are done, rejects on the first failure. */
export async function runPool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await job(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A plain-text table: first row is the header, columns after the first are right-aligned. */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  const line = (row: readonly string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const [head, ...body] = rows;
  if (!head) return '';
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface LoadResult {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `count` requests at `concurrency`, timing each one and the whole run. */
export async function timeRequests(count: number, concurrency: number, request: (index: number) => Promise<void>): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  await runPool(count, concurrency, async (i) => {
    const t0 = performance.now();
    await request(i);
    latenciesMs.push(performance.now() - t0);
  });
  const elapsedMs = performance.now() - started;
  return { reqPerSec: count / (elapsedMs / 1000), p50Ms: percentile(latenciesMs, 50), p99Ms: percentile(latenciesMs, 99) };
}

/** Milliseconds taken by `work`. */
export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}
