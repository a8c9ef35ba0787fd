/**
 * A private Docker engine per test suite: its own socket, data root, exec root and pidfile
 * under a temp dir, no bridge network, stopped by pid.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile, type PromiseWithChild } from 'node:child_process';
import { promisify } from 'node:util';
import { removeDir, startProcess, stopAndWait, tempDir, waitFor } from './proc';

const run = promisify(execFile);

export interface DockerdOptions {
  /** Registries the engine may use over plain HTTP (`host:port`). Loopback ones are insecure by default anyway. */
  insecureRegistries?: string[];
  registryMirrors?: string[];
}

export interface Dockerd {
  socket: string;
  /** `unix:///…/docker.sock`, for DOCKER_HOST. */
  host: string;
  dir: string;
  pid: number;
  /** Runs the docker CLI against this engine, with a private DOCKER_CONFIG; `child` streams its output as it runs. */
  docker(args: string[], opts?: { input?: string; timeoutMs?: number }): PromiseWithChild<{ stdout: string; stderr: string }>;
  /** The DOCKER_CONFIG folder the CLI uses (config.json lives here). */
  configDir: string;
  stop(): Promise<void>;
}

export async function startDockerd(opts: DockerdOptions = {}): Promise<Dockerd> {
  const dir = tempDir('dockerd');
  const socket = join(dir, 'docker.sock');
  const configDir = join(dir, 'cli');
  const daemonJson = join(dir, 'daemon.json');
  writeFileSync(daemonJson, JSON.stringify({
    'insecure-registries': opts.insecureRegistries ?? [],
    'registry-mirrors': opts.registryMirrors ?? [],
  }));
  const started = await startProcess('dockerd', [
    '--host', `unix://${socket}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'), '--config-file', daemonJson,
    '--bridge', 'none', '--iptables=false', '--ip6tables=false', '--storage-driver', 'vfs',
  ], /API listen on/, { timeoutMs: 60_000 });
  const host = `unix://${socket}`;
  const docker: Dockerd['docker'] = (args, o = {}) => {
    const p = run('docker', ['--host', host, ...args], {
      env: { ...process.env, DOCKER_CONFIG: configDir, DOCKER_HOST: host, DOCKER_CLI_HINTS: 'false' },
      timeout: o.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024,
    });
    if (o.input !== undefined) p.child.stdin?.end(o.input);
    return p;
  };
  await waitFor('dockerd to answer', async () => ((await docker(['version', '--format', '{{.Server.Version}}'])).stdout ? true : undefined), 30_000, 200);
  return {
    socket, host, dir, configDir, pid: started.pid, docker,
    async stop() {
      const pidFile = join(dir, 'docker.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : started.pid;
      await stopAndWait(pid, 20_000);
      await stopAndWait(started.pid, 5_000);
      // vfs layers can be large and some files are made read-only by images; force it.
      await run('rm', ['-rf', dir]).catch(() => removeDir(dir));
    },
  };
}
