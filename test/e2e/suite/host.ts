/** Helpers for tests running inside the extension host: the extension, the runner's environment, measurements. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { freePort, waitFor } from '../../support/proc';
import type { LocalImageNode, RegistryNode, RepositoryNode, TagNode } from '../../../src/views/nodes';

const run = promisify(execFile);

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

export { freePort, waitFor };

/** The docker CLI against the runner's private dockerd (DOCKER_HOST), with its private config folder. */
export async function docker(args: string[], timeoutMs = 180_000): Promise<string> {
  const { stdout } = await run('docker', args, {
    env: { ...process.env, DOCKER_HOST: runnerEnv('DOCKER_HOST'), DOCKER_CONFIG: runnerEnv('BERTH_E2E_DOCKER_CONFIG'), DOCKER_CLI_HINTS: 'false' },
    timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

/** Sets Berth's settings for the whole user (what the settings UI does), returning a function that restores them. */
export async function setBerthSettings(values: Record<string, unknown>): Promise<() => Promise<void>> {
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('berth');
  const before = Object.fromEntries(Object.keys(values).map((k) => [k, cfg().inspect(k)?.globalValue]));
  for (const [k, v] of Object.entries(values)) await cfg().update(k, v, vscode.ConfigurationTarget.Global);
  return async () => {
    for (const [k, v] of Object.entries(before)) await cfg().update(k, v, vscode.ConfigurationTarget.Global);
  };
}

/** Status of `GET url` (0 when nothing answers). */
export async function statusOf(url: string, init?: RequestInit): Promise<number> {
  try {
    return (await fetch(url, init)).status;
  } catch {
    return 0;
  }
}

/** Berth's local registry started through its own command on a free port with a private storage folder. */
export async function startLocalRegistry(storagePath: string): Promise<{ port: number; url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const restore = await setBerthSettings({ 'localRegistry.port': port, 'localRegistry.storagePath': storagePath });
  await vscode.commands.executeCommand('berth.local.start');
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`the local registry to answer on ${url}/v2/`, async () => ((await statusOf(`${url}/v2/`)) === 200 ? true : undefined), 30_000);
  return {
    port, url,
    async stop() {
      await vscode.commands.executeCommand('berth.local.stop');
      await restore();
    },
  };
}

/** Tree elements are plain data; commands take them as their argument, exactly as the tree hands them over. */
export const nodes = {
  registry(url: string): RegistryNode {
    const host = new URL(url).host;
    return { kind: 'registry', registry: { id: host, label: host, server: host, preset: 'generic', insecureHttp: url.startsWith('http:') } };
  },
  localRegistry(port: number): RegistryNode {
    return { kind: 'registry', registry: { id: 'local', label: 'Local registry', server: `127.0.0.1:${port}`, preset: 'local', insecureHttp: true }, local: { state: 'running', port } };
  },
  repository(parent: RegistryNode, name: string): RepositoryNode {
    return { kind: 'repository', parent, name };
  },
  tag(parent: RegistryNode, repository: string, tag: string): TagNode {
    return { kind: 'tag', parent: nodes.repository(parent, repository), tag };
  },
  localImage(id: string, reference: string): LocalImageNode {
    return { kind: 'localImage', image: { id, reference, repoTags: [reference], sizeBytes: 0, createdMs: Date.now() } };
  },
};
