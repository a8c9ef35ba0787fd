/**
 * The end-to-end tier: Berth in a real VS Code (code-server) driven by headless Chromium.
 *
 *   node --import tsx test/e2e/run.ts [--grep PATTERN] [--only host|ui]
 *
 * 1. Installs Node 24 and code-server once (cached in .cache/e2e/), bundles the extension-host suites.
 * 2. Starts what the extension talks to: Debian's docker-registry and a private dockerd.
 * 3. Host tests: mocha inside the real extension host, loaded through the workbench URL's `payload`
 *    (extensionDevelopmentPath = this repository, extensionTestsPath = the bundled suites).
 * 4. UI tests: mocha in this process, clicking through the workbench with playwright-core (test/e2e/ui/).
 *
 * Writes {"passes","failures","pending"} to $BERTH_STATS_FILE and exits non-zero on any failure.
 * Screenshots and log excerpts land in test-results/e2e/.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import Mocha from 'mocha';
import { ensureCodeServer, REPO_ROOT, E2E_CACHE, startCodeServer, type CodeServer } from './codeServer';
import { ARTIFACTS_DIR, launchBrowser, type Browser } from './ui/browser';
import { fixtureEnv, startFixtures, type Fixtures } from './fixtures';
import { removeDir, tempDir } from '../support/proc';
import type { HostResults } from './suite/index';

/** Per run, so two runs in one working tree never load each other's half-written bundle. */
const HOST_OUT = join(E2E_CACHE, 'out', `run-${process.pid}`);
const HOST_TIMEOUT_MS = 5 * 60_000;
/** Nothing in this tier may hang CI: past this, whatever is running is reported as a failure. */
const TIER_TIMEOUT_MS = 12 * 60_000;

interface Stats { passes: number; failures: number; pending: number }

const t0 = Date.now();
const say = (line: string): void => console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);

function args(): { grep?: string; only?: string } {
  const a = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = a.indexOf(flag);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return { grep: value('--grep') ?? process.env['BERTH_E2E_GREP'], only: value('--only') };
}

/** The suites as CommonJS files the extension host can `require`; vscode is the host's, mocha the repo's. */
async function bundleHostSuites(): Promise<void> {
  rmSync(HOST_OUT, { recursive: true, force: true });
  const dir = join(REPO_ROOT, 'test', 'e2e', 'suite');
  const entries = readdirSync(dir).filter((n) => n === 'index.ts' || n.endsWith('.test.ts')).map((n) => join(dir, n));
  const mochaCjs = require.resolve('mocha/lib/mocha.cjs', { paths: [REPO_ROOT] });
  await esbuild.build({
    entryPoints: entries, outdir: HOST_OUT, outbase: dir, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    sourcemap: 'inline', logLevel: 'warning', external: ['vscode'],
    plugins: [{
      name: 'mocha-from-repo',
      setup(b) {
        b.onResolve({ filter: /^mocha$/ }, () => ({ path: mochaCjs, external: true }));
      },
    }],
  });
}

function mergeMeasurements(extra: Record<string, unknown>): void {
  const file = join(ARTIFACTS_DIR, 'measurements.json');
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> : {};
  writeFileSync(file, JSON.stringify({ ...all, ...extra }, null, 2));
}

async function runHostTests(fixtures: Fixtures, grep: string | undefined): Promise<Stats> {
  const scratch = tempDir('e2e-host');
  const resultsDir = join(scratch, 'results');
  const workspace = join(scratch, 'workspace');
  mkdirSync(resultsDir, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const consoleLog = join(ARTIFACTS_DIR, 'host-console.log');
  try {
    server = await startCodeServer({ folder: workspace, scratchDir: join(scratch, 'cs'), smokeTestDriver: true, log: say });
    const hostEnv: Record<string, string> = { ...fixtureEnv(fixtures), BERTH_E2E_OUT: resultsDir };
    if (grep) hostEnv['BERTH_E2E_GREP'] = grep;
    const payload: Array<[string, string]> = [
      ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
      ['extensionTestsPath', server.remoteUri(join(HOST_OUT, 'index.js'))],
      ['extensionEnvironment', JSON.stringify(hostEnv)],
    ];
    browser = await launchBrowser(join(scratch, 'chromium'));
    // The copy commands write to the browser's clipboard, which headless Chromium guards by permission.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = browser.page;
    let finish: (code: number | string) => void = () => undefined;
    const exited = new Promise<number | string>((r) => (finish = r));
    writeFileSync(consoleLog, '');
    await page.exposeFunction('codeAutomationLog', (type: string, logArgs: unknown[]) => {
      const line = (logArgs ?? []).map(String).join(' ');
      appendFileSync(consoleLog, `[${type}] ${line}\n`);
      if (line.includes('[berth-e2e]')) say(`host: ${line.replace(/.*\[berth-e2e\] /s, '').split('\n')[0]}`);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => finish(code));
    const timer = setTimeout(() => finish('timeout'), HOST_TIMEOUT_MS);
    say('host tests: opening the workbench with the extension under test');
    await page.goto(server.workbenchUrl(payload));
    const code = await exited;
    clearTimeout(timer);

    const file = join(resultsDir, 'host-results.json');
    const results: HostResults | undefined = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as HostResults : undefined;
    const measurements = join(resultsDir, 'measurements.json');
    if (existsSync(measurements)) mergeMeasurements(JSON.parse(readFileSync(measurements, 'utf8')) as Record<string, unknown>);
    for (const t of results?.tests ?? []) say(`  ${t.state === 'passed' ? 'ok  ' : 'FAIL'} ${t.title} (${t.durationMs} ms)${t.error ? `\n${t.error}` : ''}`);
    const stats: Stats = results ? { passes: results.passes, failures: results.failures, pending: results.pending }
      : { passes: 0, failures: 1, pending: 0 };
    if (!results) say(`host tests did not report (exit ${code}); is the extension host up? see ${consoleLog}`);
    if (code !== 0 && stats.failures === 0) stats.failures = 1;
    if (stats.failures > 0) {
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'host-failure.png') }).catch(() => undefined);
      const excerpt = server.logExcerpt();
      writeFileSync(join(ARTIFACTS_DIR, 'host-failure.log'), excerpt);
      say(`host tests failed (exit ${code}); screenshot and logs in ${ARTIFACTS_DIR}. Extension host log tail:\n${excerpt.slice(-3000)}`);
    }
    return stats;
  } catch (e) {
    say(`host tests could not run: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    if (server) writeFileSync(join(ARTIFACTS_DIR, 'host-failure.log'), server.logExcerpt());
    return { passes: 0, failures: 1, pending: 0 };
  } finally {
    await browser?.close();
    await server?.stop();
    removeDir(scratch);
  }
}

async function runUiTests(grep: string | undefined): Promise<Stats> {
  const dir = join(REPO_ROOT, 'test', 'e2e', 'ui');
  const files = readdirSync(dir).filter((n) => n.endsWith('.test.ts')).sort();
  if (files.length === 0) return { passes: 0, failures: 0, pending: 0 };
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', timeout: 180_000, slow: 20_000 });
  if (grep) mocha.grep(grep);
  for (const f of files) mocha.addFile(join(dir, f));
  await mocha.loadFilesAsync();
  return new Promise((resolve) => {
    const runner = mocha.run(() => resolve({ passes: runner.stats?.passes ?? 0, failures: runner.stats?.failures ?? 0, pending: runner.stats?.pending ?? 0 }));
  });
}

async function main(): Promise<number> {
  const { grep, only } = args();
  const statsFile = process.env['BERTH_STATS_FILE'];
  const total: Stats = { passes: 0, failures: 0, pending: 0 };
  const add = (s: Stats): void => {
    total.passes += s.passes;
    total.failures += s.failures;
    total.pending += s.pending;
  };
  const report = (): void => {
    if (statsFile) writeFileSync(statsFile, JSON.stringify(total));
  };
  let fixtures: Fixtures | undefined;
  const guard = setTimeout(() => {
    say(`the e2e tier exceeded ${TIER_TIMEOUT_MS / 60_000} min; giving up`);
    total.failures++;
    report();
    void fixtures?.stop().finally(() => process.exit(1));
  }, TIER_TIMEOUT_MS);
  guard.unref();
  try {
    rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    if (!existsSync(join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `node esbuild.mjs` (test/run.mjs e2e does)');
    await ensureCodeServer({ log: say });
    await bundleHostSuites();
    fixtures = await startFixtures(say);
    // UI tests read the fixtures from the environment, as the extension host does.
    Object.assign(process.env, fixtureEnv(fixtures));
    if (only !== 'ui') add(await runHostTests(fixtures, grep));
    if (only !== 'host') add(await runUiTests(grep));
  } catch (e) {
    say(`e2e setup failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    total.failures++;
  } finally {
    await fixtures?.stop();
    rmSync(HOST_OUT, { recursive: true, force: true });
  }
  report();
  const measured = join(ARTIFACTS_DIR, 'measurements.json');
  if (existsSync(measured)) say(`measurements: ${readFileSync(measured, 'utf8').replace(/\s+/g, ' ')}`);
  say(`e2e: ${total.passes} passed, ${total.failures} failed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return total.failures === 0 ? 0 : 1;
}

void main().then((code) => process.exit(code));
