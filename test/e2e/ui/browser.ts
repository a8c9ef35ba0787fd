/** Headless Debian Chromium through playwright-core, with the flags known to work for code-server here. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../codeServer';

export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-results', 'e2e');
export const CHROMIUM = process.env['BERTH_E2E_CHROMIUM'] ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh profile in `profileDir` (so no secrets or state carry over between sessions). */
export async function launchBrowser(profileDir: string): Promise<Browser> {
  mkdirSync(profileDir, { recursive: true });
  const tmp = join(profileDir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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
