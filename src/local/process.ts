/**
 * Pure pieces of running the embedded registry as a child process: its arguments, its
 * environment, reading its ready line and its failures.
 */
export interface LaunchOptions {
  /** `process.execPath`: node, or the editor's electron binary. */
  execPath: string;
  /** `<extensionPath>/dist/registry.js` */
  cliPath: string;
  port: number;
  storagePath: string;
  configPath?: string;
  /** True when execPath is electron (desktop VS Code), which must be told to behave as node. */
  isElectron: boolean;
}

export function serveArgs(o: LaunchOptions): string[] {
  return [o.cliPath, 'serve', '--listen', `127.0.0.1:${o.port}`, '--root', o.storagePath, ...(o.configPath ? ['--config', o.configPath] : [])];
}

/** With the serve config, so that gc sweeps the storage the registry serves (an S3 bucket, not the folder). */
/**
 * `--all-uploads`: the extension collects only while its registry is stopped, so no client can be
 * mid-upload, and the upload a cancelled push left behind is garbage at once, not after an hour.
 */
export function gcArgs(o: Pick<LaunchOptions, 'cliPath' | 'storagePath' | 'configPath'>, dryRun: boolean): string[] {
  return [o.cliPath, 'gc', '--root', o.storagePath, ...(o.configPath ? ['--config', o.configPath] : []), '--all-uploads', ...(dryRun ? ['--dry-run'] : [])];
}

/** The child's environment: ours, minus what would make electron open a window. */
export function childEnv(env: NodeJS.ProcessEnv, isElectron: boolean): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  if (isElectron) out.ELECTRON_RUN_AS_NODE = '1';
  // A debugger attached to the extension host must not be inherited by the registry.
  delete out.NODE_OPTIONS;
  return out;
}

const LISTENING = /listening on (https?):\/\/([^\s:/]+|\[[^\]]+\]):(\d+)/;

export function parseListening(line: string): { url: string; host: string; port: number } | undefined {
  const m = LISTENING.exec(line);
  if (!m) return undefined;
  const [, scheme, host, port] = m;
  return { url: `${scheme}://${host}:${port}`, host: host as string, port: Number(port) };
}

export function mentionsPortInUse(output: string): boolean {
  return /EADDRINUSE|address already in use|port \d+ is (already )?in use/i.test(output);
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

/**
 * One line the registry printed, at the level it logged it: its log is one JSON object per line on
 * stderr (`{"level":"info","msg":"request",…}`), shown as `msg key=value…`. Anything else on stderr
 * (Node's own warnings, a stack trace) is a warning; stdout carries only the `listening on` line.
 */
export function readLogLine(line: string, fromStderr: boolean): { level: LogLevel; text: string } {
  const fallback = { level: fromStderr ? ('warn' as const) : ('info' as const), text: line };
  if (!line.startsWith('{')) return fallback;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return fallback;
  }
  if (typeof parsed !== 'object' || parsed === null) return fallback;
  const { level, msg, time: _time, ...fields } = parsed as Record<string, unknown>;
  if (typeof level !== 'string' || !LEVELS.includes(level) || typeof msg !== 'string') return fallback;
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return { level: level as LogLevel, text: [msg, ...rest].join(' ') };
}

/** The last meaningful line of a failed child's output, for a one-line message. */
export function lastLine(output: string): string {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  readonly kind = 'port-in-use';
  constructor(readonly port: number) {
    super(`Port ${port} on 127.0.0.1 is already in use by another program, so the local registry cannot listen there.`);
  }
}

export type LocalState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';
export type LocalEvent = 'start' | 'ready' | 'exit' | 'stop' | 'error';

/** Allowed transitions; anything else is ignored (a late `ready` after `stop`, say). */
export function nextState(state: LocalState, event: LocalEvent): LocalState {
  switch (event) {
    case 'start':
      return state === 'stopped' || state === 'failed' ? 'starting' : state;
    case 'ready':
      return state === 'starting' ? 'running' : state;
    case 'stop':
      return state === 'running' || state === 'starting' ? 'stopping' : state;
    case 'exit':
      // Exiting while we asked it to stop is a clean stop; otherwise it crashed.
      return state === 'stopping' ? 'stopped' : state === 'stopped' ? 'stopped' : 'failed';
    case 'error':
      return state === 'stopping' ? 'stopped' : 'failed';
  }
}
