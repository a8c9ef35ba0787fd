/**
 * Starting and stopping the real servers tests depend on. Every server binds 127.0.0.1,
 * is started by the test, and is stopped by its pid; every wait is bounded.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

/** Where tests make their folders: `$BERTH_TEST_TMPDIR` (test/run.mjs points it at a tmpfs when there is one), else the OS's. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env['BERTH_TEST_TMPDIR'] || tmpdir(), `berth-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A free loopback port, for servers that cannot take port 0 and report it back. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value, at most `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * Waits until a process's output matches `pattern` and returns the match. A log line a server writes while
 * it answers reaches the test through a pipe, after the answer itself may have: asserting on `output()`
 * right after the response races with that pipe.
 */
export async function outputMatching(proc: { output(): string }, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  try {
    return await waitFor(`output matching ${pattern}`, async () => proc.output().match(pattern) ?? undefined, timeoutMs, 50);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlast output:\n${proc.output().slice(-3000)}`, { cause: e });
  }
}

/** A registry process a test started: the embedded one or distribution. */
export interface RunningRegistry {
  url: string;
  host: string;
  port: number;
  root: string;
  pid: number;
  stop(): Promise<void>;
  output(): string;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote, for error messages. */
  output(): string;
}

/**
 * Spawns a command in its own process group and resolves once a line of its output matches `ready`.
 * Rejects with the process's output if it exits first or the wait times out.
 */
export function startProcess(cmd: string, args: string[], ready: RegExp, opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<Started & { match: RegExpMatchArray }> {
  const { timeoutMs = 30_000, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOpts });
    let out = '';
    let done = false;
    const finish = (err?: Error, match?: RegExpMatchArray): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        stopPid(child.pid);
        reject(err);
      } else resolve({ child, pid: child.pid ?? -1, output: () => out, match: match as RegExpMatchArray });
    };
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
      const m = out.match(ready);
      if (m) finish(undefined, m);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => finish(new Error(`${cmd} failed to start: ${e.message}`)));
    child.once('exit', (code, sig) => finish(new Error(`${cmd} exited (${code ?? sig}) before it was ready:\n${out.slice(-4000)}`)));
    const timer = setTimeout(() => finish(new Error(`${cmd} not ready after ${timeoutMs} ms:\n${out.slice(-4000)}`)), timeoutMs);
  });
}

/** Signals a process group (falling back to the process) and ignores processes that are gone. */
export function stopPid(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (!pid || pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. */
export async function stopAndWait(pid: number | undefined, graceMs = 10_000): Promise<void> {
  if (!pid || pid <= 0) return;
  stopPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(50);
  if (isAlive(pid)) stopPid(pid, 'SIGKILL');
}

/** Parent pid and command line of every live process, read from /proc (Linux). */
function processTable(): Map<number, { ppid: number; cmd: string }> {
  const out = new Map<number, { ppid: number; cmd: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name in parentheses may itself hold spaces and parentheses: parse after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.set(Number(name), { ppid: Number(fields[1]), cmd });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

export interface ProcessInfo {
  pid: number;
  cmd: string;
}

/** Every live descendant of `pid` (children, their children, …), whatever process group or session they moved to. */
export function descendants(pid: number): ProcessInfo[] {
  const table = processTable();
  const out: ProcessInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, info] of table) {
      if (info.ppid !== parent) continue;
      out.push({ pid: child, cmd: info.cmd });
      queue.push(child);
    }
  }
  return out;
}

/**
 * Stops a process tree: SIGTERM to `pid`'s group and to every descendant (some leave the group, e.g. a
 * terminal's shell in its own session), up to `graceMs` for them to exit, then SIGKILL to whatever is left.
 */
export async function stopTree(pid: number, graceMs = 5000): Promise<void> {
  if (pid <= 0) return;
  const tree = [pid, ...descendants(pid).map((p) => p.pid)];
  stopPid(pid, 'SIGTERM');
  for (const p of tree) stopPid(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(isAlive)) await sleep(50);
  // Descendants started while the first ones shut down are caught here too.
  const left = [...new Set([...tree, ...(isAlive(pid) ? descendants(pid).map((p) => p.pid) : [])])];
  stopPid(pid, 'SIGKILL');
  for (const p of left) stopPid(p, 'SIGKILL');
}
