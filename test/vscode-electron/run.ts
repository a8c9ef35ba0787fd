/**
 * The extension-host suites (test/e2e/suite) in a desktop VS Code downloaded by @vscode/test-electron,
 * for machines that can reach Microsoft's download servers (this project's CI cannot; it runs the
 * same suites in code-server through test/e2e/run.ts). Not part of `npm test`.
 *
 *   node --import tsx test/vscode-electron/run.ts [--version stable|insiders|1.90.0] [--grep PATTERN]
 *
 * Needs a display (use `xvfb-run -a` on a headless Linux machine), docker-registry and dockerd like the
 * e2e tier, because the suites talk to them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { runTests } from '@vscode/test-electron';
import { fixtureEnv, startFixtures } from '../e2e/fixtures';
import type { HostResults } from '../e2e/suite/index';
import { removeDir, tempDir } from '../support/proc';

const root = join(__dirname, '..', '..');
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

async function main(): Promise<number> {
  const scratch = tempDir('vscode-electron');
  const out = join(scratch, 'suite');
  const results = join(scratch, 'results');
  const workspace = join(scratch, 'workspace');
  for (const d of [out, results, workspace]) mkdirSync(d, { recursive: true });
  // The suites as CommonJS the extension host can require: vscode is the host's, mocha the repository's.
  const suiteDir = join(root, 'test', 'e2e', 'suite');
  const mochaCjs = require.resolve('mocha/lib/mocha.cjs', { paths: [root] });
  await esbuild.build({
    entryPoints: readdirSync(suiteDir).filter((n) => n === 'index.ts' || n.endsWith('.test.ts')).map((n) => join(suiteDir, n)),
    outdir: out, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], logLevel: 'warning',
    plugins: [{ name: 'repo-mocha', setup: (b) => b.onResolve({ filter: /^mocha$/ }, () => ({ path: mochaCjs, external: true })) }],
  });
  const fixtures = await startFixtures((l) => console.log(l));
  try {
    const grep = flag('--grep');
    await runTests({
      version: flag('--version') ?? 'stable',
      extensionDevelopmentPath: root,
      extensionTestsPath: join(out, 'index.js'),
      extensionTestsEnv: { ...fixtureEnv(fixtures), BERTH_E2E_OUT: results, ...(grep ? { BERTH_E2E_GREP: grep } : {}) },
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', join(scratch, 'user-data')],
    }).catch((e: unknown) => console.error(`VS Code did not run the suites: ${e instanceof Error ? e.message : String(e)}`));
    const file = join(results, 'host-results.json');
    if (!existsSync(file)) {
      console.error('the extension host reported no results');
      return 1;
    }
    const r = JSON.parse(readFileSync(file, 'utf8')) as HostResults;
    for (const t of r.tests) console.log(`${t.state === 'passed' ? 'ok  ' : 'FAIL'} ${t.title}${t.error ? `\n${t.error}` : ''}`);
    console.log(`${r.passes} passed, ${r.failures} failed`);
    return r.failures === 0 && r.passes > 0 ? 0 : 1;
  } finally {
    await fixtures.stop();
    removeDir(scratch);
  }
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
