/**
 * The local registry when something goes wrong, as a person sees it: the tree row and status bar
 * after a crash, the log's levels, and what a failed automatic start says.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { runCommand } from '../../../src/commands/command';
import { localStart } from '../../../src/commands/localStart';
import type { LocalRegistry } from '../../../src/local/localRegistry';
import { statusText } from '../../../src/views/statusText';
import { treeItemSpec } from '../../../src/views/treeItems';
import { localStateChildren } from '../../../src/views/treeModel';
import type { RegistryNode } from '../../../src/views/nodes';
import { freePort, removeDir, tempDir, waitFor } from '../../support/proc';
import { LOCAL_ENTRY, testDeps } from '../../unit/fakes/deps';
import { localManager } from './manager';

describe('local registry failures as the person sees them', () => {
  let dir: string;
  let registry: LocalRegistry | undefined;

  beforeEach(() => {
    dir = tempDir('local-failures');
  });
  afterEach(async () => {
    await registry?.stop();
    registry?.dispose();
    registry = undefined;
    removeDir(dir);
  });

  it('a registry that crashes after running reads "Stopped unexpectedly", not "Failed to start", with the exit and a restart', async () => {
    const lines: string[] = [];
    const r = (registry = localManager({ dir, port: await freePort(), lines }));
    await r.start();
    const pid = r.pid;
    assert.ok(pid, 'the registry process runs');
    process.kill(pid, 'SIGKILL');
    await waitFor('the crash to be noticed', async () => (r.status().state === 'failed' ? true : undefined), 20_000);
    const node: RegistryNode = { kind: 'registry', registry: LOCAL_ENTRY, local: r.status() };
    const rows = localStateChildren(node) ?? [];
    assert.equal(rows[0]?.message, 'Stopped unexpectedly: Start the local registry');
    assert.match(rows[0]?.detail ?? '', /exited unexpectedly \(SIGKILL\)/);
    assert.equal(rows[0]?.action?.command, 'berth.local.start');
    assert.equal(rows[1]?.message, 'Show the local registry logs');
    assert.equal(treeItemSpec(node, Date.now()).description, 'stopped unexpectedly');
    assert.equal(statusText(r.status()).text, '$(error) Registry stopped unexpectedly');
    // It starts again from the same row; a fresh failure to start then reads as such.
    await r.start();
    assert.equal(r.status().crashed, undefined);
  });

  it('logs the registry\'s lines at their own level, and "listening on" once', async () => {
    const lines: string[] = [];
    const port = await freePort();
    const r = (registry = localManager({ dir, port, lines }));
    await r.start();
    assert.equal((await fetch(`http://127.0.0.1:${port}/v2/`)).status, 200);
    await waitFor('the request line', async () => (lines.some((l) => l.includes('request ') && l.includes('path=/v2/')) ? true : undefined), 10_000);
    const request = lines.find((l) => l.includes('request ') && l.includes('path=/v2/')) ?? '';
    assert.match(request, /^info request id=\S+ method=GET path=\/v2\/ route=base status=200 /, 'a request is info, readable, not raw JSON');
    assert.equal(lines.filter((l) => l.startsWith('warn ')).length, 0, `no warnings for a healthy start: ${lines.filter((l) => l.startsWith('warn ')).join(' | ')}`);
    assert.equal(lines.filter((l) => /listening on/.test(l)).length, 1, lines.join('\n'));
  });

  it('an automatic start that fails says so, with the reason and the logs one click away', async () => {
    const r = (registry = localManager({ dir, port: await freePort(), configPath: async () => join(dir, 'missing.yml') }));
    let logsShown = 0;
    const deps = testDeps([{ button: 'Show Logs' }]);
    deps.local = { ...deps.local, start: () => r.start(), status: () => r.status(), showLogs: () => void logsShown++ };
    await runCommand(localStart, deps, [{ automatic: true }]);
    const shown = deps.ui.shown.find((s) => s.kind === 'error');
    assert.match(shown?.text ?? '', /^The local registry did not start automatically\. The local registry exited \(code \d+\) before listening: .+/);
    assert.equal(logsShown, 1);
    assert.equal(r.status().state, 'failed');
    assert.equal(r.status().crashed, undefined);
  });
});
