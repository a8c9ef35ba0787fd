/**
 * Starting the registry's worker threads, from the bundle (dist/NAME.js beside dist/registry.js) or, when
 * the registry runs from its TypeScript sources through tsx (tests), from src/ with tsx registered first.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker script `name`: the bundle's sibling in `dir` when there is one, else the TypeScript source there. */
export function workerScript(dir: string, name: string): string {
  const bundled = join(dir, `${name}.js`);
  return existsSync(bundled) ? bundled : join(dir, `${name}.ts`);
}

/** A worker that never keeps the process alive: shutdown does not wait for an idle one. */
export function startWorker(file: string, options: WorkerOptions = {}): Worker {
  const worker = file.endsWith('.ts')
    // tsx is found from the worker's own folder, so a test's temporary script finds it too.
    ? new Worker(`require(require('node:module').createRequire(${JSON.stringify(file)}).resolve('tsx/cjs')); require(${JSON.stringify(file)});`, { ...options, eval: true })
    : new Worker(file, options);
  worker.unref();
  return worker;
}
