/**
 * Extension activation time and bundle sizes. Each timing runs in a fresh Node process (a warm
 * require cache would hide the cost of loading the bundle); the median over several runs is kept.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { removeDir, tempDir } from '../test/support/proc';
import { bundleScript, PROJECT_ROOT } from './children';
import { median } from './stats';

export interface BundleSize {
  bytes: number;
  gzipBytes: number;
}

export interface ActivationTiming {
  runs: number;
  requireMs: number;
  activateMs: number;
  totalMs: number;
  cpuMs: number;
  samplesTotalMs: number[];
}

export interface ActivationReport {
  development?: ActivationTiming;
  production?: ActivationTiming;
  /** Third-party packages in require.cache after activation, from a build that keeps node_modules external. */
  packagesLoaded?: string[];
  heavyModulesLoaded?: string[];
  dockerodeLoaded?: boolean;
  registeredCommands?: number;
  treeViews?: number;
  bundles: Record<string, BundleSize | { error: string }>;
  errors: string[];
}

interface ProbeResult {
  requireMs: number;
  activateMs: number;
  totalMs: number;
  cpuMs: number;
  heavyModules: string[];
  packages: string[];
  registeredCommands: number;
  treeViews: number;
  error?: string;
}

function size(file: string): BundleSize | { error: string } {
  try {
    return { bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function runProbe(probe: string, bundle: string, scratch: string, env: NodeJS.ProcessEnv = {}): ProbeResult {
  const r = spawnSync(process.execPath, [probe, bundle, PROJECT_ROOT, scratch], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env }, cwd: scratch });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: ProbeResult;
  try {
    parsed = JSON.parse(line) as ProbeResult;
  } catch {
    throw new Error(`activation probe printed no result (exit ${r.status ?? r.signal}): ${r.stderr.slice(-1000)}`);
  }
  if (parsed.error) throw new Error(`activation failed: ${parsed.error.split('\n').slice(0, 4).join(' | ')}`);
  return parsed;
}

function timeActivation(probe: string, bundle: string, scratch: string, runs: number): ActivationTiming {
  runProbe(probe, bundle, scratch); // warms the page cache; not counted
  const results = Array.from({ length: runs }, () => runProbe(probe, bundle, scratch));
  return {
    runs,
    requireMs: median(results.map((r) => r.requireMs)),
    activateMs: median(results.map((r) => r.activateMs)),
    totalMs: median(results.map((r) => r.totalMs)),
    cpuMs: median(results.map((r) => r.cpuMs)),
    samplesTotalMs: results.map((r) => r.totalMs),
  };
}

/**
 * Runs the project's own `esbuild.mjs --production` in a scratch folder that links to the sources,
 * so the minified bundles land there and dist/ keeps the development build.
 */
function productionBuild(dir: string): string {
  for (const entry of ['src', 'node_modules', 'package.json', 'tsconfig.json', 'esbuild.mjs']) symlinkSync(join(PROJECT_ROOT, entry), join(dir, entry));
  const r = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`production build failed: ${(r.stderr || r.stdout).slice(-1500)}`);
  return join(dir, 'dist');
}

export async function measureActivation(runs: number, log: (line: string) => void): Promise<ActivationReport> {
  const dir = tempDir('bench-activation');
  const report: ActivationReport = { bundles: {}, errors: [] };
  const attempt = async (what: string, work: () => Promise<void> | void): Promise<void> => {
    try {
      await work();
    } catch (e) {
      const message = `${what}: ${e instanceof Error ? e.message : String(e)}`;
      report.errors.push(message);
      log(`  ${message}`);
    }
  };
  try {
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    const probe = await bundleScript('bench/activationProbe.ts', dir);
    const devBundle = join(PROJECT_ROOT, 'dist/extension.js');
    report.bundles['dist/extension.js'] = size(devBundle);
    report.bundles['dist/registry.js'] = size(join(PROJECT_ROOT, 'dist/registry.js'));
    await attempt('development bundle', () => { report.development = timeActivation(probe, devBundle, scratch, runs); });

    const prodDir = join(dir, 'production');
    mkdirSync(prodDir);
    await attempt('production bundle', () => {
      const dist = productionBuild(prodDir);
      report.bundles['extension.js (production)'] = size(join(dist, 'extension.js'));
      report.bundles['registry.js (production)'] = size(join(dist, 'registry.js'));
      report.production = timeActivation(probe, join(dist, 'extension.js'), scratch, runs);
    });

    // With every package external, whatever activation loads shows up in require.cache by name.
    await attempt('packages loaded by activation', async () => {
      const external = join(dir, 'external', 'extension.js');
      await build({ entryPoints: [join(PROJECT_ROOT, 'src/extension.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: external, packages: 'external', logLevel: 'silent' });
      const r = runProbe(probe, external, scratch, { NODE_PATH: join(PROJECT_ROOT, 'node_modules') });
      report.packagesLoaded = r.packages;
      report.heavyModulesLoaded = r.heavyModules;
      report.dockerodeLoaded = r.heavyModules.some((m) => /[\\/]node_modules[\\/]dockerode[\\/]/.test(m));
      report.registeredCommands = r.registeredCommands;
      report.treeViews = r.treeViews;
    });
  } finally {
    removeDir(dir);
  }
  return report;
}
