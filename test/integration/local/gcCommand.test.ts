/** "Garbage-Collect Local Registry…" with the real process: stop, preview, confirm, collect, start again. */
import { strict as assert } from 'node:assert';
import { runCommand } from '../../../src/commands/command';
import { localGc } from '../../../src/commands/localGc';
import type { LocalRegistry } from '../../../src/local/localRegistry';
import { digestOf } from '../../../src/oci/digest';
import { freePort, removeDir, tempDir } from '../../support/proc';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';
import { localManager } from './manager';

describe('garbage collection from the command', () => {
  let dir: string;
  let registry: LocalRegistry;
  let port: number;

  before(async () => {
    dir = tempDir('gc-command');
    port = await freePort();
    registry = localManager({ dir, port });
    await registry.start();
  });
  after(async () => {
    await registry.stop();
    registry.dispose();
    removeDir(dir);
  });

  const deps = (answers: Answer[]): TestDeps => {
    const d = testDeps(answers);
    d.local = { ...d.local, status: () => registry.status(), start: () => registry.start(), stop: () => registry.stop(), gc: (dryRun) => registry.gc(dryRun) };
    return d;
  };
  const orphan = async (text: string): Promise<string> => {
    const blob = Buffer.from(text);
    const digest = digestOf(blob);
    const res = await fetch(`http://127.0.0.1:${port}/v2/gc/test/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob });
    assert.equal(res.status, 201);
    return digest;
  };
  const blobStatus = async (digest: string): Promise<number> => (await fetch(`http://127.0.0.1:${port}/v2/gc/test/blobs/${digest}`, { method: 'HEAD' })).status;

  it('previews what it would remove with sizes in KB, removes it once confirmed, and starts the registry again', async () => {
    const digest = await orphan('unreferenced 1');
    const big = await orphan('x'.repeat(5000));
    const d = deps([{ button: 'Continue' }, { button: 'Delete' }]);
    await runCommand(localGc, d, []);
    const [stopWarning, preview] = d.ui.messages('warn');
    assert.match(stopWarning ?? '', /stops the local registry/);
    assert.match(preview ?? '', /would remove 0 manifests and 2 blobs \(5\.0 KB\)/);
    const detail = (d.ui.shown.find((s) => s.text === preview)?.options as { detail?: string } | undefined)?.detail ?? '';
    assert.match(detail, new RegExp(`${big}.*\\(5\\.0 KB\\)`));
    assert.match(detail, new RegExp(`${digest}.*\\(14 B\\)`));
    assert.doesNotMatch(`${preview}\n${detail}`, /\d bytes/);
    assert.match(d.ui.messages('info').join('\n'), /Garbage collection done: removed 0 manifests and 2 blobs \(5\.0 KB\)/);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.equal(registry.status().state, 'running');
    assert.equal(await blobStatus(digest), 404);
    assert.equal(await blobStatus(big), 404);
  });

  it('removes nothing when the preview is declined, and still starts the registry again', async () => {
    const digest = await orphan('unreferenced 2');
    await runCommand(localGc, deps([{ button: 'Continue' }, { button: undefined }]), []);
    assert.equal(registry.status().state, 'running');
    assert.equal(await blobStatus(digest), 200);
  });
});
