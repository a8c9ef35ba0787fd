/** Resident memory of a server process, from /proc/<pid>/status, sampled while it works. */
import { readFileSync, writeFileSync } from 'node:fs';

const KiB = 1024;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]) * KiB;
  } catch {
    return undefined;
  }
}

export function rssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

/**
 * Resets the kernel's peak-RSS mark (VmHWM) so that a later read gives the true peak of one
 * phase, which a sampling timer can miss. Returns false where the kernel refuses.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function peakBytes(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

export interface MemoryPhase {
  baselineBytes: number;
  /** Highest of the sampled RSS and the kernel's peak mark. */
  peakBytes: number;
  growthBytes: number;
  samples: number;
}

/** Samples RSS every `everyMs` while `work` runs; the baseline is the RSS just before it starts. */
export async function measureMemory(pid: number, work: () => Promise<void>, everyMs = 10): Promise<MemoryPhase> {
  const baselineBytes = rssBytes(pid) ?? Number.NaN;
  const kernelPeak = resetPeak(pid);
  let peak = baselineBytes;
  let samples = 0;
  const timer = setInterval(() => {
    const rss = rssBytes(pid);
    if (rss !== undefined) {
      peak = Math.max(peak, rss);
      samples++;
    }
  }, everyMs);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const hwm = kernelPeak ? peakBytes(pid) : undefined;
  if (hwm !== undefined) peak = Math.max(peak, hwm);
  return { baselineBytes, peakBytes: peak, growthBytes: peak - baselineBytes, samples };
}

/** CPU time (user + system, all threads) the process has used so far, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of those.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;
