/** The local registry posts its webhook events back to the extension's loopback listener. */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryEventListener, registryConfig, type RegistryChange } from '../../../src/local/events';
import type { LocalRegistry } from '../../../src/local/localRegistry';
import { localManager } from './manager';
import { buildImage, buildIndex, pushBuilt } from '../../support/ociImage';
import { freePort, removeDir, tempDir, waitFor } from '../../support/proc';

describe('registry events reach the extension', () => {
  let dir: string;
  let registry: LocalRegistry;
  let listener: RegistryEventListener;
  let base: string;
  const received: RegistryChange[] = [];

  before(async () => {
    dir = tempDir('events');
    listener = new RegistryEventListener();
    listener.onDidChange((c) => received.push(...c));
    const port = await freePort();
    registry = localManager({
      dir,
      port,
      configPath: async () => {
        const path = join(dir, 'registry-config.yml');
        writeFileSync(path, registryConfig({ url: await listener.start(), token: listener.token }), { mode: 0o600 });
        return path;
      },
    });
    await registry.start();
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await registry.stop();
    registry.dispose();
    listener.dispose();
    removeDir(dir);
  });

  it('a tagged push arrives as one manifest change with repository and tag (layers left out)', async () => {
    const pushed = await pushBuilt(base, 'team-a/api', buildImage(), '1.4');
    const change = await waitFor('the push event', async () => received.find((c) => c.action === 'push' && c.tag === '1.4'), 15_000);
    const { atMs, ...rest } = change;
    assert.deepEqual(rest, { action: 'push', repository: 'team-a/api', tag: '1.4', digest: pushed.digest });
    assert.ok(atMs !== undefined && Math.abs(Date.now() - atMs) < 60_000, 'the registry\'s timestamp of the change');
    assert.ok(received.every((c) => c.digest !== undefined));
  });

  it('an index push reports its platforms by digest and the index by tag', async () => {
    const pushed = await pushBuilt(base, 'team-a/multi', buildIndex(), 'v2');
    await waitFor('the index event', async () => received.find((c) => c.repository === 'team-a/multi' && c.tag === 'v2'), 15_000);
    const byDigest = received.filter((c) => c.repository === 'team-a/multi' && c.tag === undefined);
    assert.ok(byDigest.length >= 2, `platform manifests pushed by digest: ${byDigest.length}`);
    assert.equal(received.find((c) => c.tag === 'v2')?.digest, pushed.digest);
  });

  it('a delete arrives as a delete change', async () => {
    const pushed = await pushBuilt(base, 'team-b/gone', buildImage(), 'x');
    const res = await fetch(`${base}/v2/team-b/gone/manifests/${pushed.digest}`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    const change = await waitFor('the delete event', async () => received.find((c) => c.action === 'delete' && c.repository === 'team-b/gone'), 15_000);
    assert.equal(change.digest, pushed.digest);
  });

  it('refuses posts without the session token', async () => {
    const url = await listener.start();
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ events: [] }) });
    assert.equal(res.status, 401);
  });
});
