/**
 * One UI session: a fresh code-server (own user data, own extensions dir) and a fresh Chromium profile,
 * with Berth loaded from this repository as the extension under development. The extension host gets
 * the runner's fixtures (DOCKER_HOST, the docker-registry URL) through `extensionEnvironment`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { REPO_ROOT, startCodeServer, type CodeServer } from '../codeServer';
import { freePort, removeDir, tempDir } from '../../support/proc';
import { outboundInTraceFile, summarize, type Outbound } from '../../support/netTrace';
import { ARTIFACTS_DIR, CHROMIUM_ROUTE_PROBES, launchBrowser, type Browser } from './browser';
import { Workbench } from './workbench';

export interface UiSession {
  server: CodeServer;
  browser: Browser;
  wb: Workbench;
  /** The folder the window has open (none in an empty window). */
  workspace: string | undefined;
  /** Everything this session writes: code-server's HOME, TMPDIR, user data and the browser profile. */
  scratch: string;
  /** Reloads the window (a new extension host) and waits for the workbench. */
  reload(): Promise<void>;
  /** In an afterEach hook: keeps a screenshot and the server's log tail when the test failed. */
  captureFailure(ctx: Context): Promise<void>;
  /**
   * With `watchNetwork`, once stopped: every attempt to reach beyond 127.0.0.1 by code-server's process
   * tree, by Chromium, or by the pages (one line each, with how often); empty when there was none.
   */
  outbound(): string[];
  stop(): Promise<void>;
}

export interface UiSessionOptions {
  /** Runs code-server and Chromium under strace and records the pages' requests (see `outbound`). */
  watchNetwork?: boolean;
  /** Opens the window with no folder (what a person sees before opening one), not the scratch folder. */
  emptyWindow?: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Environment variables the runner shares with the extension host (see test/e2e/fixtures.ts). */
function hostEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { ...overrides };
  for (const k of ['DOCKER_HOST', 'BERTH_E2E_DISTRIBUTION_URL', 'BERTH_E2E_DOCKER_CONFIG']) {
    const v = process.env[k];
    if (v && !(k in overrides)) out[k] = v;
  }
  return out;
}

const slug = (s: string): string => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 80).toLowerCase();

export async function startUiSession(name: string, settings: Record<string, unknown> = {}, hostEnv: Record<string, string> = {},
  opts: UiSessionOptions = {}): Promise<UiSession> {
  const scratch = tempDir(`e2e-ui-${slug(name)}`);
  const workspace = opts.emptyWindow ? undefined : join(scratch, 'workspace');
  if (workspace) mkdirSync(workspace, { recursive: true });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const traces = opts.watchNetwork ? { codeServer: join(scratch, 'code-server.strace'), chromium: join(scratch, 'chromium.strace') } : undefined;
  const pageRequests: Outbound[] = [];
  let outbound: string[] | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    // The payload (extensionDevelopmentPath, extensionEnvironment) is honoured only with the smoke-test driver.
    server = await startCodeServer({ folder: workspace, scratchDir: join(scratch, 'cs'), smokeTestDriver: true, settings, log: () => undefined,
      netTraceFile: traces?.codeServer });
    browser = await launchBrowser(join(scratch, 'chromium'), { netTraceFile: traces?.chromium });
    if (traces) {
      // What the workbench and its workers ask for, whether or not the name would resolve.
      browser.context.on('request', (r) => {
        const url = new URL(r.url());
        if (/^https?:$/.test(url.protocol) && !LOOPBACK_HOSTS.has(url.hostname)) {
          pageRequests.push({ process: 'the workbench page', what: `${r.method()} ${url.origin}${url.pathname}` });
        }
      });
    }
    const wb = new Workbench(browser.page);
    await browser.page.goto(server.workbenchUrl([
      ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
      ['extensionEnvironment', JSON.stringify(hostEnvironment(hostEnv))],
    ]));
    await wb.waitReady();
    const s = server;
    const b = browser;
    return {
      server: s, browser: b, wb, workspace, scratch,
      async reload() {
        await b.page.reload();
        await wb.waitReady();
      },
      async captureFailure(ctx) {
        const test = ctx.currentTest;
        if (!test || test.state !== 'failed') return;
        const base = join(ARTIFACTS_DIR, `FAILED-${slug(name)}-${slug(test.title)}`);
        await b.page.screenshot({ path: `${base}.png` }).catch(() => undefined);
        const excerpt = s.logExcerpt();
        writeFileSync(`${base}.log`, excerpt);
        await wb.dismissAll().catch(() => undefined);
        console.log(`    screenshot: ${base}.png\n    extension host and server logs: ${base}.log\n${excerpt.slice(-2500).replace(/^/gm, '      ')}`);
      },
      outbound() {
        if (!traces) throw new Error('outbound() needs a session started with watchNetwork');
        if (!outbound) throw new Error('outbound() is known once the session is stopped');
        return outbound;
      },
      async stop() {
        await b.close();
        await s.stop();
        if (traces) {
          outbound = summarize([
            ...outboundInTraceFile(traces.codeServer).map((o) => ({ ...o, process: `code-server: ${o.process}` })),
            ...outboundInTraceFile(traces.chromium, { ignoreConnects: CHROMIUM_ROUTE_PROBES }).map((o) => ({ ...o, process: `Chromium: ${o.process}` })),
            ...pageRequests,
          ]);
        }
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

export interface SessionHooks {
  /** The session, once `before` has run. */
  readonly s: UiSession;
  /** The port the local registry is configured to use (a free one, so runs never collide on 5000). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the local registry's address once it runs. */
  readonly localUrl: string;
}

/**
 * Registers mocha hooks for a describe block: a UI session with Berth's local registry on a free port
 * and a private storage folder, a screenshot and log tail after each failed test, everything stopped after.
 */
export interface SessionOptions {
  /** Runs before code-server starts (build or push what the flow needs). */
  prepare?: () => Promise<void>;
  /** Overrides what the extension host gets from the runner (e.g. a DOCKER_HOST nobody answers). */
  hostEnv?: Record<string, string>;
  /** User settings beyond the local registry's port and storage. */
  settings?: Record<string, unknown>;
  /** Opens the window with no folder, not the scratch folder. */
  emptyWindow?: boolean;
}

export function useUiSession(name: string, opts: SessionOptions = {}): SessionHooks {
  let session: UiSession | undefined;
  let storage: string | undefined;
  let port = 0;
  before(async function () {
    await opts.prepare?.();
    storage = tempDir(`e2e-ui-${slug(name)}-storage`);
    port = await freePort();
    session = await startUiSession(name, { 'berth.localRegistry.port': port, 'berth.localRegistry.storagePath': storage, ...opts.settings }, opts.hostEnv, { emptyWindow: opts.emptyWindow });
    await session.wb.openViewContainer('Berth');
  });
  afterEach(async function () {
    await session?.captureFailure(this);
  });
  after(async function () {
    await session?.stop();
    if (storage) removeDir(storage);
  });
  return {
    get s(): UiSession {
      if (!session) throw new Error(`the UI session "${name}" did not start`);
      return session;
    },
    get port() {
      return port;
    },
    get localUrl() {
      return `http://127.0.0.1:${port}`;
    },
  };
}

/** Connect Registry… for an "Other registry" with a user name and password, as a person types it. */
export async function connectOtherRegistry(wb: Workbench, server: string, username: string, secret: string): Promise<void> {
  await wb.runCommand('Berth: Connect Registry…');
  await wb.pick('Other registry (OCI / Docker V2)');
  await wb.answer(server, /Registry server/);
  await wb.answer(username, /User name/);
  await wb.answer(secret, /Password or token/);
  await wb.answer('', /E-mail/);
}
