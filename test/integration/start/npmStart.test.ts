/**
 * `npm start` as a person runs it, with code-server already in the cache: the script builds, seeds the demo
 * registry, starts code-server and prints the URL; a browser opens it (so an extension host starts and
 * auto-starts the local registry); then a signal must stop every process the script started. Throughout,
 * strace watches the script and everything it starts: none of it may reach beyond 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodeServer, E2E_CACHE, REPO_ROOT } from '../../e2e/codeServer';
import { launchBrowser, type Browser } from '../../e2e/ui/browser';
import { outboundInTraceFile, requireStrace, straceArgs, summarize } from '../../support/netTrace';
import { descendants, freePort, isAlive, removeDir, sleep, stopTree, tempDir, waitFor, type ProcessInfo } from '../../support/proc';

interface StartRun {
  child: ChildProcess;
  pid: number;
  output(): string;
  exit: Promise<number | null>;
}

function npmStartScript(home: string, demoDir: string, codeServerPort: number, registryPort: number): StartRun {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    BERTH_DEMO_DIR: demoDir,
    BERTH_CODE_SERVER_PORT: String(codeServerPort),
    BERTH_REGISTRY_PORT: String(registryPort),
  };
  // No display: the script must take the code-server path.
  delete env['DISPLAY'];
  delete env['WAYLAND_DISPLAY'];
  // Its own process group, as a terminal's foreground job is.
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'start.mjs')], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (b: Buffer): void => {
    out += b.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, pid: child.pid ?? -1, output: () => out, exit };
}

/**
 * Attaches strace to the script as soon as it runs; it follows every process the script starts from then
 * on (node takes tens of milliseconds to load the script, longer than strace takes to attach). Resolves,
 * once the script and what it started have exited, with what left 127.0.0.1.
 */
function watchNetwork(pid: number, traceFile: string): { outbound(): Promise<string[]> } {
  requireStrace();
  const strace = spawn('strace', [...straceArgs(traceFile), '-p', String(pid)], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => strace.once('exit', () => r()));
  return {
    async outbound() {
      // strace ends when the last process it follows has; a process left behind is the test's failure, not this one's.
      if (await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]) === false) {
        strace.kill('SIGTERM');
        await exited;
      }
      return summarize(outboundInTraceFile(traceFile));
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

describe('npm start (code-server already installed)', function () {
  this.timeout(15 * 60_000);

  before(async function () {
    // Installs on a machine that has never run the e2e tier; instant when the cache is there, as here.
    await ensureCodeServer({ cacheDir: E2E_CACHE, log: (l) => console.log(`      ${l}`) });
  });

  const cases: Array<{ signal: NodeJS.Signals; how: string; toGroup: boolean }> = [
    { signal: 'SIGTERM', how: 'kill <pid>', toGroup: false },
    // Closing a terminal sends SIGHUP to its foreground process group.
    { signal: 'SIGHUP', how: 'closing the terminal', toGroup: true },
  ];
  for (const c of cases) {
    it(`prints the URL, reaches nothing beyond 127.0.0.1, and ${c.signal} (${c.how}) stops code-server, its extension host and the local registry it started`, async function () {
      const scratch = tempDir('npm-start');
      const home = join(scratch, 'home');
      mkdirSync(home, { recursive: true });
      const [codeServerPort, registryPort] = [await freePort(), await freePort()];
      const run = npmStartScript(home, join(scratch, 'demo'), codeServerPort, registryPort);
      const network = watchNetwork(run.pid, join(scratch, 'npm-start.strace'));
      let browser: Browser | undefined;
      let tree: ProcessInfo[] = [];
      try {
        const url = await waitFor('the workbench URL', async () => /VS Code \(code-server\) with Berth: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(run.output())?.[1]
          ?? (run.child.exitCode !== null ? Promise.reject(new Error(`npm start exited ${run.child.exitCode}:\n${run.output()}`)) : undefined), 5 * 60_000, 250);
        assert.match(run.output(), /demo images: demo\/hello:1\.0/);

        browser = await launchBrowser(join(scratch, 'chromium'));
        await browser.page.goto(url);
        // autoStart: the extension host starts Berth's local registry with the demo images in it.
        const catalog = await waitFor('the local registry started by the extension host', async () => {
          const r = await fetch(`http://127.0.0.1:${registryPort}/v2/_catalog`, { signal: AbortSignal.timeout(2000) });
          return r.ok ? await r.json() as { repositories: string[] } : undefined;
        }, 180_000, 500);
        assert.deepEqual(catalog.repositories, ['demo/hello', 'demo/multi']);

        tree = descendants(run.pid);
        assert.ok(tree.some((p) => p.cmd.includes('code-server')), `no code-server among:\n${tree.map((p) => p.cmd).join('\n')}`);
        assert.ok(tree.some((p) => /registry\.js serve/.test(p.cmd)), `no local registry among:\n${tree.map((p) => p.cmd).join('\n')}`);

        process.kill(c.toGroup ? -run.pid : run.pid, c.signal);
        const code = await Promise.race([run.exit, sleep(60_000).then(() => 'still running')]);
        assert.notEqual(code, 'still running', `npm start did not exit after ${c.signal}:\n${run.output().slice(-3000)}`);
        assert.match(run.output(), new RegExp(`${c.signal}: stopping everything npm start started`));

        const left = await waitFor('every process npm start started to exit', async () => {
          const alive = tree.filter((p) => isAlive(p.pid));
          return alive.length === 0 ? alive : undefined;
        }, 20_000, 200).catch(() => tree.filter((p) => isAlive(p.pid)));
        assert.deepEqual(left.map((p) => `${p.pid} ${p.cmd}`), [], 'processes left running');
        assert.equal(await answers(`http://127.0.0.1:${registryPort}/v2/`), false, 'the local registry still answers');
        assert.equal(await answers(`http://127.0.0.1:${codeServerPort}/healthz`), false, 'code-server still answers');
        assert.deepEqual(await network.outbound(), [], 'npm start reached beyond 127.0.0.1');
      } finally {
        await browser?.close();
        // Whatever a failed run left behind.
        await stopTree(run.pid, 2000);
        for (const p of tree) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
        removeDir(scratch);
      }
    });
  }
});
