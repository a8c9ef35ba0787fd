#!/usr/bin/env node
// `npm start`: from a fresh Debian machine to VS Code with Berth loaded and a local registry
// holding a small demo image. Installs only what is missing; everything stays on 127.0.0.1.
//
//   1. system packages (as root, only when absent): what code-server's native modules need;
//      docker.io is optional (the Local Images view says so when no engine answers)
//   2. npm ci when node_modules is missing, then the build (dist/)
//   3. a demo registry folder with demo/hello:1.0 (one image) and demo/multi:1.0 (linux/amd64,
//      linux/arm64/v8), assembled in code: no internet, no Docker Hub
//   4. a demo workspace whose settings point Berth's local registry at that folder (auto-start)
//   5. desktop VS Code (`code --extensionDevelopmentPath`) when there is one and a display,
//      otherwise code-server on 127.0.0.1 (installed once under .cache/e2e) with the URL printed
//
// Ctrl+C, SIGTERM or closing the terminal (SIGHUP) stops whatever is running at that moment (an
// install, the build, code-server with its extension hosts and the local registry they started)
// and exits. Environment: BERTH_DEMO_DIR (default .cache/demo), BERTH_CODE_SERVER_PORT (8080 when
// free), BERTH_REGISTRY_PORT (5000 when free).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demo = process.env.BERTH_DEMO_DIR ? resolve(process.env.BERTH_DEMO_DIR) : join(root, '.cache', 'demo');
// A closed terminal turns writes into EIO/EPIPE errors; they must not stop the cleanup below.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
const say = (line) => console.log(`[berth] ${line}`);

/** Stops everything this script started; each step adds what it runs and removes it when done. */
const aborter = new AbortController();
const cleanups = new Set();
let stopping;

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const t = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 3000);
  t.unref();
}

function shutdown(signal) {
  stopping ??= (async () => {
    say(`${signal}: stopping everything npm start started`);
    aborter.abort();
    await Promise.allSettled([...cleanups].map((f) => f()));
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void shutdown(signal));

/**
 * Runs a command in its own process group with its output on this terminal. A group, because a signal
 * to this script alone must still reach npm's install scripts and compilers.
 */
function run(cmd, args, opts = {}) {
  return new Promise((resolveRun, reject) => {
    if (aborter.signal.aborted) return reject(new Error('stopped'));
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, detached: true, ...opts });
    const cleanup = async () => killGroup(child.pid);
    cleanups.add(cleanup);
    child.once('error', (e) => {
      cleanups.delete(cleanup);
      reject(new Error(`${cmd} ${args.join(' ')} failed (${e.message})`));
    });
    child.once('close', (code, sig) => {
      cleanups.delete(cleanup);
      if (code === 0) resolveRun();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code ?? sig})`));
    });
  });
}

const onPath = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const installed = (pkg) => spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed');

async function aptInstall(packages, optional) {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0) return;
  if (!isRoot || !onPath('apt-get')) {
    say(`${optional ? 'optional' : 'needed'} system packages missing: ${missing.join(' ')} (install them with apt-get as root)`);
    if (!optional) throw new Error('missing system packages');
    return;
  }
  say(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  } catch (e) {
    if (aborter.signal.aborted) throw e;
    if (optional) say(`could not install ${missing.join(' ')}; continuing without`);
    else throw new Error(`apt-get could not install ${missing.join(' ')}`);
  }
}

/** Pushes the demo images into `storage` through a registry started for the purpose, then stops it. */
async function seedDemoRegistry(storage) {
  const { tsImport } = await import('tsx/esm/api');
  const img = await tsImport('../test/support/ociImage.ts', import.meta.url);
  const { startProcess, stopAndWait } = await tsImport('../test/support/proc.ts', import.meta.url);
  const started = await startProcess(process.execPath, [join(root, 'dist', 'registry.js'), 'serve', '--listen', '127.0.0.1:0', '--root', storage], /listening on (http:\/\/[\d.]+:\d+)/);
  const base = started.match[1];
  const cleanup = () => stopAndWait(started.pid);
  cleanups.add(cleanup);
  try {
    const file = (platform) => img.layerOf(img.tarArchive({ 'hello.txt': `Hello from Berth's local registry (${platform}).\n` }), { gzip: true });
    const image = (platform) => {
      const layer = file(`${platform.os}/${platform.architecture}`);
      return img.buildImage({ layers: [layer], platform, config: img.imageConfig({ platform, diffIds: [layer.diffId], created: new Date().toISOString(), cmd: ['/hello.txt'], labels: { 'org.opencontainers.image.title': 'Berth demo' } }) });
    };
    const hello = await img.pushBuilt(base, 'demo/hello', image({ os: 'linux', architecture: 'amd64' }), '1.0');
    const multi = await img.pushBuilt(base, 'demo/multi', img.buildIndex({ images: [image({ os: 'linux', architecture: 'amd64' }), image({ os: 'linux', architecture: 'arm64', variant: 'v8' })] }), '1.0');
    say(`demo images: demo/hello:1.0 (${hello.digest.slice(0, 19)}…), demo/multi:1.0 (${multi.digest.slice(0, 19)}…)`);
  } finally {
    cleanups.delete(cleanup);
    await stopAndWait(started.pid);
  }
}

async function main() {
  const [major] = process.versions.node.split('.').map(Number);
  if (major < 20) throw new Error(`Node ${process.versions.node} is too old: Berth needs Node 20 or newer.`);
  const desktop = onPath('code') && !!(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

  // Passed explicitly to the installer: its own default is computed from __dirname, which differs under tsImport.
  const cacheDir = join(root, '.cache', 'e2e');
  const codeServerCached = existsSync(cacheDir) && readdirSync(cacheDir).some((n) => /^code-server-\d[\d.]*$/.test(n));
  if (!desktop && !codeServerCached) {
    // code-server builds native modules on install.
    await aptInstall(['build-essential', 'python3', 'pkg-config', 'libkrb5-dev'], false);
  }
  if (!onPath('docker')) await aptInstall(['docker.io'], true);
  if (!existsSync(join(root, 'node_modules'))) {
    say('npm ci');
    await run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  // tsx comes with the dev dependencies: only now can the TypeScript helpers load.
  const { tsImport } = await import('tsx/esm/api');
  const cs = desktop ? undefined : await tsImport('../test/e2e/codeServer.ts', import.meta.url);
  say('building');
  await run(process.execPath, ['esbuild.mjs']);

  const storage = join(demo, 'registry');
  const workspace = join(demo, 'workspace');
  mkdirSync(storage, { recursive: true });
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  await seedDemoRegistry(storage);
  const { isPortFree, findFreePort } = await tsImport('../src/local/localRegistry.ts', import.meta.url);
  const portOr = async (preferred) => ((await isPortFree(preferred)) ? preferred : findFreePort());
  const registryPort = Number(process.env.BERTH_REGISTRY_PORT) || (await portOr(5000));
  const settings = {
    'berth.localRegistry.storagePath': storage,
    'berth.localRegistry.port': registryPort,
    'berth.localRegistry.autoStart': true,
    'berth.notifyOnPush': true,
  };
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
  writeFileSync(join(workspace, 'README.md'), `# Berth demo\n\nThe local registry starts with VS Code on 127.0.0.1:${registryPort} (see the status bar) with demo/hello:1.0 and demo/multi:1.0; open the Berth view in the activity bar to browse it.\n`);

  if (desktop) {
    say('opening desktop VS Code with Berth loaded');
    spawn('code', [`--extensionDevelopmentPath=${root}`, workspace], { stdio: 'ignore', detached: true }).unref();
    say(`the local registry starts with VS Code on 127.0.0.1:${registryPort} with the demo images; open the Berth view to browse them`);
    return;
  }

  const install = await cs.ensureCodeServer({ cacheDir, log: (l) => say(l), signal: aborter.signal });
  const scratch = join(demo, 'code-server');
  mkdirSync(join(scratch, 'extensions'), { recursive: true });
  // code-server loads an unpacked extension from its extensions folder: link this repository there
  // (again when the link points at another checkout).
  const link = join(scratch, 'extensions', 'berth.berth-0.1.0');
  if (readlinkOr(link) !== root) {
    rmSync(link, { recursive: true, force: true });
    symlinkSync(root, link);
  }
  const port = Number(process.env.BERTH_CODE_SERVER_PORT) || (await portOr(8080));
  const server = await cs.startCodeServer({ folder: workspace, scratchDir: scratch, port, settings, install, log: (l) => say(l), signal: aborter.signal });
  cleanups.add(() => server.stop());
  if (aborter.signal.aborted) return;
  say(`VS Code (code-server) with Berth: ${server.workbenchUrl()}`);
  say(`the local registry starts with VS Code on 127.0.0.1:${registryPort} with the demo images; open the Berth view to browse them. Ctrl+C stops everything.`);
}

function readlinkOr(path) {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

main().catch(async (e) => {
  // A step that failed because of a signal: the shutdown under way says so and exits.
  if (stopping) return;
  console.error(`[berth] ${e instanceof Error ? e.message : String(e)}`);
  await Promise.allSettled([...cleanups].map((f) => f()));
  process.exit(1);
});
