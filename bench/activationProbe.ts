/**
 * Times require + activate() of an extension bundle in a fresh process, with `vscode` stubbed.
 * Arguments: bundle path, extension folder, scratch folder. Prints one JSON line.
 */
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createExtensionContext, createVscodeStub, readVscodeApi, type VscodeApiShape } from './vscodeStub';

interface ExtensionModule {
  activate?: (context: unknown) => unknown;
  deactivate?: () => unknown;
}

type ModuleLoad = (request: string, parent: unknown, isMain: boolean) => unknown;

/** Third-party packages that activation must not load; they belong to the first engine or registry call. */
const HEAVY = /[\\/]node_modules[\\/](dockerode|docker-modem|ssh2|@peculiar[\\/]x509|https-proxy-agent|bcryptjs)[\\/]/;

async function main(): Promise<void> {
  const [bundle, extensionPath, scratch] = process.argv.slice(2);
  if (!bundle || !extensionPath || !scratch) throw new Error('usage: activationProbe <bundle> <extensionPath> <scratchDir>');
  const calls = new Map<string, number>();
  const record = (path: string): void => { calls.set(path, (calls.get(path) ?? 0) + 1); };
  let api: VscodeApiShape | undefined;
  try {
    api = readVscodeApi(readFileSync(join(extensionPath, 'node_modules/@types/vscode/index.d.ts'), 'utf8'));
  } catch {
    api = undefined; // without the declarations every name is a no-op
  }
  const vscode = createVscodeStub(record, api);
  const loader = Module as unknown as { _load: ModuleLoad };
  const load = loader._load;
  loader._load = function (this: unknown, request, parent, isMain) {
    return request === 'vscode' ? vscode : load.call(this, request, parent, isMain);
  };
  const context = createExtensionContext(extensionPath, scratch, record);
  const req = createRequire(__filename);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ext = req(bundle) as ExtensionModule;
  const t1 = performance.now();
  await ext.activate?.(context);
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const modules = Object.keys(req.cache);
  const packages = [...new Set(modules.map((m) => /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(m)?.[1]).filter((p): p is string => p !== undefined))].sort();
  const result = {
    requireMs: t1 - t0,
    activateMs: t2 - t1,
    totalMs: t2 - t0,
    // CPU spent by require + activate: unlike wall time, not inflated when other processes compete for the CPUs.
    cpuMs: (cpu.user + cpu.system) / 1000,
    heavyModules: modules.filter((m) => HEAVY.test(m)),
    packages,
    registeredCommands: calls.get('commands.registerCommand') ?? 0,
    treeViews: (calls.get('window.createTreeView') ?? 0) + (calls.get('window.registerTreeDataProvider') ?? 0),
    subscriptions: context.subscriptions.length,
  };
  await ext.deactivate?.();
  for (const d of context.subscriptions) {
    try {
      await d.dispose();
    } catch {
      /* a failing dispose does not change the timing */
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.stack ?? e.message : String(e) })}\n`);
  process.exit(1);
});
