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
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, '.cache', 'demo');
const say = (line) => console.log(`[berth] ${line}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

const onPath = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const installed = (pkg) => spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed');

function aptInstall(packages, optional) {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0) return;
  if (!isRoot || !onPath('apt-get')) {
    say(`${optional ? 'optional' : 'needed'} system packages missing: ${missing.join(' ')} (install them with apt-get as root)`);
    if (!optional) throw new Error('missing system packages');
    return;
  }
  say(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env }) : update;
  if (r.status !== 0) {
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
    aptInstall(['build-essential', 'python3', 'pkg-config', 'libkrb5-dev'], false);
  }
  if (!onPath('docker')) aptInstall(['docker.io'], true);
  if (!existsSync(join(root, 'node_modules'))) {
    say('npm ci');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  // tsx comes with the dev dependencies: only now can the TypeScript helpers load.
  const { tsImport } = await import('tsx/esm/api');
  const cs = desktop ? undefined : await tsImport('../test/e2e/codeServer.ts', import.meta.url);
  say('building');
  run(process.execPath, ['esbuild.mjs']);

  const storage = join(demo, 'registry');
  const workspace = join(demo, 'workspace');
  mkdirSync(storage, { recursive: true });
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  await seedDemoRegistry(storage);
  const { isPortFree, findFreePort } = await tsImport('../src/local/localRegistry.ts', import.meta.url);
  const portOr = async (preferred) => ((await isPortFree(preferred)) ? preferred : findFreePort());
  const registryPort = await portOr(5000);
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

  const install = cs.ensureCodeServer({ cacheDir, log: (l) => say(l) });
  const scratch = join(demo, 'code-server');
  mkdirSync(join(scratch, 'extensions'), { recursive: true });
  // code-server loads an unpacked extension from its extensions folder: link this repository there.
  const link = join(scratch, 'extensions', 'berth.berth-0.1.0');
  if (!existsSync(link)) spawnSync('ln', ['-s', root, link]);
  const port = Number(process.env.BERTH_CODE_SERVER_PORT) || (await portOr(8080));
  const server = await cs.startCodeServer({ folder: workspace, scratchDir: scratch, port, settings, install, log: (l) => say(l) });
  say(`VS Code (code-server) with Berth: ${server.workbenchUrl()}`);
  say(`the local registry starts with VS Code on 127.0.0.1:${registryPort} with the demo images; open the Berth view to browse them. Ctrl+C stops everything.`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`[berth] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
