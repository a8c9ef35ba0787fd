/**
 * Debian's `docker-registry` (distribution 2.8), the reference registry, started per test
 * on 127.0.0.1 with a config of the test's choosing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, removeDir, startProcess, stopAndWait, tempDir, waitFor, type RunningRegistry } from './proc';

export interface DistributionOptions {
  /** Storage root; a fresh temp dir by default. */
  root?: string;
  /** Extra top-level config merged over the defaults (auth, http.tls, proxy, notifications…). */
  config?: Record<string, unknown>;
  /** `storage.delete.enabled`; on by default so tests can exercise deletion. */
  deleteEnabled?: boolean;
  /** The storage driver section in place of `filesystem` (e.g. `{s3: {...}}`, see ceph.ts). */
  storageDriver?: Record<string, unknown>;
}

export type Distribution = RunningRegistry;

export async function startDistribution(opts: DistributionOptions = {}): Promise<Distribution> {
  const dir = tempDir('distribution');
  const root = opts.root ?? join(dir, 'data');
  const tls = (opts.config?.['http'] as { tls?: unknown } | undefined)?.tls;
  const configPath = join(dir, 'config.yml');
  // Its s3 driver crashes on AWS_CA_BUNDLE; the filesystem driver never reads it.
  const env = { ...process.env };
  delete env['AWS_CA_BUNDLE'];
  // A free port can be taken by another process before distribution binds it: try fresh ports a few times.
  const MAX_ATTEMPTS = 3;
  let port = 0;
  let started: Awaited<ReturnType<typeof startProcess>> | undefined;
  for (let attempt = 1; !started; attempt++) {
    port = await freePort();
    const debugPort = await freePort();
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'info', accesslog: { disabled: true } },
      storage: {
        ...(opts.storageDriver ?? { filesystem: { rootdirectory: root } }),
        delete: { enabled: opts.deleteEnabled ?? true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      ...opts.config,
      http: {
        addr: `127.0.0.1:${port}`,
        secret: 'berth-test-secret',
        debug: { addr: `127.0.0.1:${debugPort}` },
        ...(opts.config?.['http'] as Record<string, unknown> | undefined),
      },
    };
    writeFileSync(configPath, stringify(config));
    try {
      started = await startProcess('docker-registry', ['serve', configPath], /listening on/, { cwd: dir, env, timeoutMs: 60_000 });
    } catch (e) {
      if (attempt >= MAX_ATTEMPTS || !/address already in use/.test(String(e))) throw e;
    }
  }
  const scheme = tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  if (!tls) await waitFor('distribution /v2/', async () => ((await fetch(`${url}/v2/`)).status > 0 ? true : undefined), 10_000);
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    root,
    pid: started.pid,
    output: started.output,
    async stop() {
      await stopAndWait(started.pid);
      if (!opts.root) removeDir(dir);
      else removeDir(configPath.replace(/config\.yml$/, ''));
    },
  };
}
