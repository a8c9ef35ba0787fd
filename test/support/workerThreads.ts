/** Worker scripts for testing the registry's worker thread pools. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A worker script (written into `dir`) whose first run exits with code 3 on its first task; every later
 * run is the real worker at `workerTs` (a TypeScript source, loaded through tsx).
 */
export function workerDyingOnce(dir: string, workerTs: string): string {
  const marker = join(dir, 'died-once');
  const file = join(dir, 'dies-once.js');
  writeFileSync(file, [
    "const { existsSync, writeFileSync } = require('node:fs');",
    `if (!existsSync(${JSON.stringify(marker)})) {`,
    `  writeFileSync(${JSON.stringify(marker)}, '');`,
    "  require('node:worker_threads').parentPort.on('message', () => process.exit(3));",
    '} else {',
    `  require(${JSON.stringify(require.resolve('tsx/cjs'))});`,
    `  require(${JSON.stringify(workerTs)});`,
    '}',
  ].join('\n'));
  return file;
}
