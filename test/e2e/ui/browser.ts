/** Headless Debian Chromium through playwright-core, with the flags known to work for code-server here. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../codeServer';
import { requireStrace, straceArgs } from '../../support/netTrace';

export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-results', 'e2e');
export const CHROMIUM = process.env['BERTH_E2E_CHROMIUM'] ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Connects Chromium makes that send nothing: before it resolves a name it connects a UDP socket to this
 * address to learn whether IPv6 has a route (net/dns's reachability probe), then closes it.
 */
export const CHROMIUM_ROUTE_PROBES = ['[2001:4860:4860::8888]:443'];

/**
 * Chromium resolves no host name but 127.0.0.1, so nothing it starts on its own reaches the network.
 * Even with --disable-background-networking and --disable-component-update it lists Google accounts
 * (accounts.google.com/ListAccounts) and asks the component updater for the on-device model manifest
 * (update.googleapis.com) a few seconds after it starts, and fetches autofill predictions
 * (content-autofill.googleapis.com) when a form field is typed into; no switch of this version turns
 * those off. Every page the tests open is on 127.0.0.1.
 */
const HOST_RESOLVER_RULES = '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1';

export interface LaunchOptions {
  /** Runs Chromium under strace, which writes its connects and DNS queries here (test/support/netTrace.ts). */
  netTraceFile?: string;
}

/** A fresh profile in `profileDir` (so no secrets or state carry over between sessions). */
export async function launchBrowser(profileDir: string, opts: LaunchOptions = {}): Promise<Browser> {
  mkdirSync(profileDir, { recursive: true });
  const tmp = join(profileDir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  let executablePath = CHROMIUM;
  if (opts.netTraceFile) {
    requireStrace();
    // Playwright starts the executable it is given with its pipes on fds 3 and 4; strace keeps them open.
    executablePath = join(profileDir, 'chromium-traced.sh');
    const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    writeFileSync(executablePath, `#!/bin/sh\nexec strace ${straceArgs(opts.netTraceFile).map(quote).join(' ')} ${quote(CHROMIUM)} "$@"\n`, { mode: 0o755 });
  }
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', HOST_RESOLVER_RULES],
    viewport: { width: 1400, height: 900 },
    env: { ...process.env, TMPDIR: tmp },
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
    },
  };
}
