/**
 * The bench's helper processes are TypeScript bundled to plain CommonJS before they run, so
 * they start without a TypeScript loader (which would also distort the activation timing).
 */
import { build } from 'esbuild';
import { basename, join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..');

export async function bundleScript(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, basename(entry).replace(/\.ts$/, '.cjs'));
  await build({ entryPoints: [resolve(PROJECT_ROOT, entry)], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile, logLevel: 'warning' });
  return outfile;
}
