/**
 * The extension's side of the embedded registry: one child process bound to 127.0.0.1,
 * a state machine with events, logs line by line, a clean stop (SIGTERM, then wait: the
 * server finishes pushes in flight). No vscode import: extension.ts passes settings and
 * the log channel in.
 */
// child_process and net load on first start, not at activation.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Disposable, Emitter, toDisposable } from '../app/lifecycle';
import type { LocalStatus } from '../app/ports';
import { childEnv, gcArgs, lastLine, mentionsPortInUse, nextState, parseListening, PortInUseError, readLogLine, serveArgs, type LocalEvent, type LocalState } from './process';

export interface LocalRegistryLog {
  debug?(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LocalRegistryOptions {
  execPath: string;
  cliPath: string;
  isElectron: boolean;
  env: NodeJS.ProcessEnv;
  port(): number;
  storagePath(): string;
  /** Writes the registry's config file (webhook endpoint…) and returns its path, if any. */
  configPath?: () => Promise<string | undefined>;
  log: LocalRegistryLog;
  startTimeoutMs?: number;
  /** How long a stop waits for in-flight requests before SIGKILL (the server itself drains for 5 s). */
  stopTimeoutMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_CHARS = 64_000;

/** Binds 127.0.0.1:port for a moment; the port bound, or undefined when it is taken. */
async function probePort(port: number): Promise<number | undefined> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, '127.0.0.1', () => {
      const bound = probe.address();
      probe.close(() => resolve(typeof bound === 'object' && bound ? bound.port : undefined));
    });
  });
}

/** True when nothing listens on 127.0.0.1:port. */
export async function isPortFree(port: number): Promise<boolean> {
  return (await probePort(port)) !== undefined;
}

/** How many ports after a busy one are tried before asking the OS for any free port. */
const NEARBY_PORTS = 20;

/**
 * A port free right now on 127.0.0.1: the first free one after `near` when given (5000 busy → 5001,
 * a number a person recognises), else whatever the OS hands out.
 */
export async function findFreePort(near?: number): Promise<number> {
  if (near !== undefined) {
    for (let p = near + 1; p <= Math.min(near + NEARBY_PORTS, 65535); p++) if (await isPortFree(p)) return p;
  }
  const port = await probePort(0);
  if (port === undefined) throw new Error('The system has no free port on 127.0.0.1.');
  return port;
}

export class LocalRegistry extends Disposable {
  private readonly stateChanged = this.register(new Emitter<LocalStatus>());
  readonly onDidChangeState = this.stateChanged.event;
  private state: LocalState = 'stopped';
  private port: number | undefined;
  private message: string | undefined;
  /** It stopped on its own after it had been running (as opposed to failing to start). */
  private crashed = false;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private starting: Promise<void> | undefined;

  constructor(private readonly opts: LocalRegistryOptions) {
    super();
    this.register(toDisposable(() => this.killNow()));
  }

  status(): LocalStatus {
    return {
      state: this.state,
      ...(this.port !== undefined ? { port: this.port } : {}),
      ...(this.message !== undefined ? { message: this.message } : {}),
      ...(this.state === 'failed' && this.crashed ? { crashed: true } : {}),
    };
  }

  /** The registry process's id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string | undefined {
    return this.state === 'running' && this.port !== undefined ? `http://127.0.0.1:${this.port}` : undefined;
  }

  private move(event: LocalEvent, message?: string): void {
    const next = nextState(this.state, event);
    if (message !== undefined) this.message = message;
    if (next === this.state && message === undefined) return;
    this.crashed = event === 'exit' && this.state === 'running' && next === 'failed';
    this.state = next;
    if (next === 'running' || next === 'starting') this.message = message;
    this.stateChanged.fire(this.status());
  }

  /** Starts the registry; resolves once it listens. Concurrent calls share one start. */
  start(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    if (this.starting) return this.starting;
    this.starting = this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.state === 'stopping') await this.exited;
    const port = this.opts.port();
    const storagePath = this.opts.storagePath();
    this.move('start');
    try {
      if (!(await isPortFree(port))) throw new PortInUseError(port);
      mkdirSync(storagePath, { recursive: true });
      const configPath = await this.opts.configPath?.();
      const { execPath, cliPath, isElectron } = this.opts;
      const args = serveArgs({ execPath, cliPath, isElectron, port, storagePath, ...(configPath ? { configPath } : {}) });
      this.opts.log.info(`starting: ${this.opts.execPath} ${args.join(' ')}`);
      const { spawn } = await import('node:child_process');
      const ready = await this.spawnAndWait(spawn, args, port);
      this.port = ready.port;
      this.move('ready');
      // The registry's own "listening on" line is already in the log.
      this.opts.log.info(`storage: ${storagePath}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.opts.log.error(message);
      this.killNow();
      this.move('error', message);
      throw err;
    }
  }

  private spawnAndWait(spawn: typeof import('node:child_process').spawn, args: string[], port: number): Promise<{ port: number }> {
    const child = spawn(this.opts.execPath, args, { env: childEnv(this.opts.env, this.opts.isElectron), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    let settled = false;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    return new Promise((resolve, reject) => {
      const timeoutMs = this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
      const timer = setTimeout(() => finish(new Error(`The local registry did not report that it listens within ${timeoutMs / 1000} s. See its logs.`)), timeoutMs);
      const finish = (err: Error | undefined, value?: { port: number }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value as { port: number });
      };
      const onLine = (line: string, isErr: boolean): void => {
        if (!line.trim()) return;
        const { level, text } = readLogLine(line, isErr);
        if (output.length < MAX_OUTPUT_CHARS) output += text + '\n';
        const log = this.opts.log;
        if (level === 'debug') (log.debug ?? log.info).call(log, text);
        else log[level](text);
        const listening = parseListening(line);
        if (listening) finish(undefined, { port: listening.port });
      };
      lines(child.stdout, (l) => onLine(l, false));
      lines(child.stderr, (l) => onLine(l, true));
      child.once('error', (err) => finish(new Error(`Could not run the local registry (${err.message}).`)));
      child.once('close', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!settled) {
          finish(mentionsPortInUse(output) ? new PortInUseError(port) : new Error(`The local registry exited (${signal ?? `code ${code}`}) before listening: ${lastLine(output) || 'no output'}.`));
          return;
        }
        const message = this.state === 'stopping' ? undefined : `The local registry exited unexpectedly (${signal ?? `code ${code}`}): ${lastLine(output)}`;
        if (message) this.opts.log.error(message);
        this.move('exit', message);
      });
    });
  }

  /** SIGTERM, then wait for the process to finish requests in flight; SIGKILL only after the timeout. */
  async stop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const child = this.child;
    if (!child || this.state === 'stopped') {
      this.move('stop');
      this.move('exit');
      return;
    }
    this.move('stop');
    this.opts.log.info('stopping (SIGTERM; pushes in flight are finished first)');
    child.kill('SIGTERM');
    const timeoutMs = this.opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.opts.log.warn(`still running after ${timeoutMs / 1000} s; killing it`);
      child.kill('SIGKILL');
      await this.exited;
    }
    this.opts.log.info('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Runs `registry.js gc`; the registry must not be running (it holds a lock on the root). */
  async gc(dryRun: boolean): Promise<string> {
    const configPath = await this.opts.configPath?.();
    const args = gcArgs({ cliPath: this.opts.cliPath, storagePath: this.opts.storagePath(), ...(configPath ? { configPath } : {}) }, dryRun);
    this.opts.log.info(`gc: ${args.join(' ')}`);
    const { spawn } = await import('node:child_process');
    return new Promise((resolve, reject) => {
      const child = spawn(this.opts.execPath, args, { env: childEnv(this.opts.env, this.opts.isElectron), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        if (out.length < MAX_OUTPUT_CHARS) out += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        if (err.length < MAX_OUTPUT_CHARS) err += d.toString('utf8');
      });
      child.once('error', (e) => reject(new Error(`Could not run garbage collection (${e.message}).`)));
      child.once('close', (code) => {
        for (const l of (out + err).split('\n').filter(Boolean)) this.opts.log.info(`gc: ${l}`);
        if (code === 0) resolve(out.trim());
        else reject(new Error(`Garbage collection failed: ${lastLine(err) || lastLine(out) || `exit code ${code}`}`));
      });
    });
  }

  private killNow(): void {
    const child = this.child;
    if (child && child.exitCode === null) child.kill('SIGTERM');
  }
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      onLine(buf.slice(0, nl).replace(/\r$/, ''));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buf) onLine(buf);
  });
}
