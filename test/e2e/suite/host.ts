/** Helpers for tests running inside the extension host: the extension, the runner's environment, measurements. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'berth.berth';

/** A variable the runner passes through `extensionEnvironment`; a clear error when it is missing. */
export function runnerEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set in the extension host: test/e2e/run.ts passes it through extensionEnvironment`);
  return v;
}

export function berth(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded: is the repository the extensionDevelopmentPath?`);
  return ext;
}

export async function activeBerth(): Promise<vscode.Extension<unknown>> {
  const ext = berth();
  await ext.activate();
  return ext;
}

/** Keeps a number for the runner's summary (not an assertion: speed is measured, not tested). */
export function record(name: string, value: number | string): void {
  const file = join(runnerEnv('BERTH_E2E_OUT'), 'measurements.json');
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Record<string, number | string> : {};
  all[name] = value;
  writeFileSync(file, JSON.stringify(all, null, 2));
}

export { waitFor } from '../../support/proc';
