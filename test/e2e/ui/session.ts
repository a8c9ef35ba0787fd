/**
 * One UI session: a fresh code-server (own user data, own extensions dir) and a fresh Chromium profile,
 * with Berth loaded from this repository as the extension under development. The extension host gets
 * the runner's fixtures (DOCKER_HOST, the docker-registry URL) through `extensionEnvironment`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { REPO_ROOT, startCodeServer, type CodeServer } from '../codeServer';
import { removeDir, tempDir } from '../../support/proc';
import { ARTIFACTS_DIR, launchBrowser, type Browser } from './browser';
import { Workbench } from './workbench';

export interface UiSession {
  server: CodeServer;
  browser: Browser;
  wb: Workbench;
  /** The workspace folder the window has open. */
  workspace: string;
  /** In an afterEach hook: keeps a screenshot and the server's log tail when the test failed. */
  captureFailure(ctx: Context): Promise<void>;
  stop(): Promise<void>;
}

/** Environment variables the runner shares with the extension host (see test/e2e/fixtures.ts). */
function hostEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['DOCKER_HOST', 'BERTH_E2E_DISTRIBUTION_URL', 'BERTH_E2E_DOCKER_CONFIG']) {
    const v = process.env[k];
    if (v) out[k] = v;
  }
  return out;
}

const slug = (s: string): string => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 80).toLowerCase();

export async function startUiSession(name: string, settings: Record<string, unknown> = {}): Promise<UiSession> {
  const scratch = tempDir(`e2e-ui-${slug(name)}`);
  const workspace = join(scratch, 'workspace');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    // The payload (extensionDevelopmentPath, extensionEnvironment) is honoured only with the smoke-test driver.
    server = await startCodeServer({ folder: workspace, scratchDir: join(scratch, 'cs'), smokeTestDriver: true, settings, log: () => undefined });
    browser = await launchBrowser(join(scratch, 'chromium'));
    const wb = new Workbench(browser.page);
    await browser.page.goto(server.workbenchUrl([
      ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
      ['extensionEnvironment', JSON.stringify(hostEnvironment())],
    ]));
    await wb.waitReady();
    const s = server;
    const b = browser;
    return {
      server: s, browser: b, wb, workspace,
      async captureFailure(ctx) {
        const test = ctx.currentTest;
        if (!test || test.state !== 'failed') return;
        const base = join(ARTIFACTS_DIR, `FAILED-${slug(name)}-${slug(test.title)}`);
        await b.page.screenshot({ path: `${base}.png` }).catch(() => undefined);
        const excerpt = s.logExcerpt();
        writeFileSync(`${base}.log`, excerpt);
        console.log(`    screenshot: ${base}.png\n    extension host and server logs: ${base}.log\n${excerpt.slice(-2500).replace(/^/gm, '      ')}`);
      },
      async stop() {
        await b.close();
        await s.stop();
        removeDir(scratch);
      },
    };
  } catch (e) {
    await browser?.close();
    if (server) {
      writeFileSync(join(ARTIFACTS_DIR, `FAILED-${slug(name)}-start.log`), server.logExcerpt());
      await server.stop();
    }
    removeDir(scratch);
    throw e;
  }
}

/** Keeps a figure in test-results/e2e/measurements.json (speed is measured and reported, never asserted). */
export function recordMeasurement(name: string, value: number | string): void {
  const file = join(ARTIFACTS_DIR, 'measurements.json');
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Record<string, number | string> : {};
  all[name] = value;
  writeFileSync(file, JSON.stringify(all, null, 2));
  console.log(`      measured ${name} = ${value}`);
}
