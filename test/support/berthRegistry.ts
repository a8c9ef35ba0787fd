/** The embedded registry as a user runs it: `node dist/registry.js serve`, a separate process. */
import { join, resolve } from 'node:path';
import { removeDir, startProcess, stopAndWait, tempDir, type RunningRegistry } from './proc';

export const REGISTRY_CLI = resolve(__dirname, '../../dist/registry.js');

export interface BerthRegistryOptions {
  root?: string;
  /** Extra CLI arguments, e.g. ['--config', file]. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export type BerthRegistry = RunningRegistry;

export async function startBerthRegistry(opts: BerthRegistryOptions = {}): Promise<BerthRegistry> {
  const dir = opts.root ? undefined : tempDir('berth');
  const root = opts.root ?? join(dir as string, 'data');
  const started = await startProcess(process.execPath, [REGISTRY_CLI, 'serve', '--listen', '127.0.0.1:0', '--root', root, ...(opts.args ?? [])],
    /listening on (https?):\/\/([\d.]+):(\d+)/, { env: { ...process.env, ...opts.env } });
  const [, scheme, host, port] = started.match;
  return {
    url: `${scheme}://${host}:${port}`,
    host: `${host}:${port}`,
    port: Number(port),
    root,
    pid: started.pid,
    output: started.output,
    async stop() {
      await stopAndWait(started.pid);
      if (dir) removeDir(dir);
    },
  };
}
