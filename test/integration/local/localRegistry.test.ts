/** The extension's local registry manager against the real `dist/registry.js`. */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { LocalRegistry } from '../../../src/local/localRegistry';
import { PortInUseError } from '../../../src/local/process';
import { digestOf } from '../../../src/oci/digest';
import type { LocalStatus } from '../../../src/app/ports';
import { localManager } from './manager';
import { freePort, removeDir, tempDir } from '../../support/proc';

function manager(dir: string, port: number, lines: string[], configPath?: string): LocalRegistry {
  return localManager({ dir, port, lines, ...(configPath ? { configPath: async () => configPath } : {}) });
}

describe('local registry manager (real registry process)', () => {
  let dir: string;
  let port: number;
  let registry: LocalRegistry;
  const lines: string[] = [];
  const states: LocalStatus[] = [];

  before(async () => {
    dir = tempDir('local');
    port = await freePort();
    registry = manager(dir, port, lines);
    registry.onDidChangeState((s) => states.push(s));
  });

  after(async () => {
    await registry.stop();
    registry.dispose();
    removeDir(dir);
  });

  it('starts on 127.0.0.1 at the configured port, reports starting then running, and answers /v2/', async () => {
    await registry.start();
    assert.deepEqual(states.map((s) => s.state), ['starting', 'running']);
    assert.equal(registry.status().port, port);
    const res = await fetch(`http://127.0.0.1:${port}/v2/`);
    assert.equal(res.status, 200);
    assert.ok(lines.some((l) => l.includes(`listening on http://127.0.0.1:${port}`)), 'the ready line is in the log');
  });

  it('a second start while running is a no-op', async () => {
    const before = states.length;
    await registry.start();
    assert.equal(states.length, before);
  });

  it('stops with SIGTERM, keeps what was pushed, and serves it again after a restart', async () => {
    const blob = Buffer.from('berth local registry blob');
    const digest = digestOf(blob);
    const put = await fetch(`http://127.0.0.1:${port}/v2/keep/me/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(put.status, 201);
    await registry.stop();
    assert.equal(registry.status().state, 'stopped');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/v2/`));
    await registry.start();
    const head = await fetch(`http://127.0.0.1:${port}/v2/keep/me/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  it('garbage collection runs on the stopped registry: the dry run lists the unreferenced blob, the real run removes it', async () => {
    await registry.stop();
    assert.match(await registry.gc(true), /would remove 0 manifests and 1 blobs?/);
    await registry.gc(false);
    assert.match(await registry.gc(true), /would remove 0 manifests and 0 blobs/);
    await registry.start();
  });

  it('garbage collection is refused while the registry runs (it holds the root), with the reason', async () => {
    await assert.rejects(registry.gc(true), /Garbage collection failed: .+/);
  });

  it('refuses a port another program holds, with a PortInUseError naming it, and ends in "failed"', async () => {
    const busyPort = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(busyPort, '127.0.0.1', () => r()));
    const other = manager(tempDir('local-busy'), busyPort, []);
    try {
      await assert.rejects(other.start(), (e: unknown) => e instanceof PortInUseError && e.port === busyPort && /already in use/.test(e.message));
      assert.equal(other.status().state, 'failed');
      assert.match(other.status().message ?? '', /already in use/);
    } finally {
      other.dispose();
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('a registry that exits at once reports why (a missing config file) and ends in "failed"', async () => {
    const bad = manager(dir, await freePort(), [], join(dir, 'does-not-exist.yml'));
    try {
      await assert.rejects(bad.start(), /exited \(code \d+\) before listening: .+/);
      assert.equal(bad.status().state, 'failed');
    } finally {
      bad.dispose();
    }
  });
});
