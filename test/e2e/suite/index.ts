/**
 * The tests module VS Code's extension host loads (`extensionTestsPath`): it runs mocha over the bundled
 * `*.test.js` files beside it and writes every result to `$BERTH_E2E_OUT/host-results.json`, which the
 * runner outside reads. A rejected `run()` is how the host reports failure (exit code 1).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export interface HostTestResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
}

export interface HostResults {
  passes: number;
  failures: number;
  pending: number;
  tests: HostTestResult[];
}

const log = (line: string): void => console.log(`[berth-e2e] ${line}`);

export async function run(): Promise<void> {
  const outDir = process.env['BERTH_E2E_OUT'];
  if (!outDir) throw new Error('BERTH_E2E_OUT is not set: the runner passes it through extensionEnvironment');
  const mocha = new Mocha({ ui: 'bdd', timeout: Number(process.env['BERTH_E2E_TIMEOUT_MS'] ?? 120_000), color: false });
  const grep = process.env['BERTH_E2E_GREP'];
  if (grep) mocha.grep(grep);
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(join(__dirname, f));

  const results: HostResults = { passes: 0, failures: 0, pending: 0, tests: [] };
  const save = (): void => writeFileSync(join(outDir, 'host-results.json'), JSON.stringify(results, null, 2));
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (t) => {
      results.passes++;
      results.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration ?? 0 });
      log(`pass ${t.fullTitle()} (${t.duration ?? 0} ms)`);
    });
    runner.on('fail', (t, err: Error) => {
      results.failures++;
      const error = err.stack ?? String(err);
      results.tests.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration ?? 0, error });
      log(`FAIL ${t.fullTitle()}: ${error}`);
    });
    runner.on('pending', (t) => {
      results.pending++;
      results.tests.push({ title: t.fullTitle(), state: 'pending', durationMs: 0 });
    });
  });
  save();
  if (results.failures > 0) throw new Error(`${results.failures} extension-host test(s) failed`);
}
