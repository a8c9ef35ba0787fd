/**
 * The Local Images side through a real dockerd (fake window only): Remove Image, and Pull from a
 * repository row with its progress layer by layer.
 */
import { strict as assert } from 'node:assert';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import { runCommand } from '../../../src/commands/command';
import { pullImage } from '../../../src/commands/pullImage';
import { removeLocalImage } from '../../../src/commands/removeLocalImage';
import { Engine } from '../../../src/engine/engine';
import { imageRows, toLocalImage } from '../../../src/views/localImages';
import type { LocalImageNode, RepositoryNode } from '../../../src/views/nodes';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { busyboxContext } from '../../support/images';
import { removeDir } from '../../support/proc';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

describe('local images with a real engine: Remove Image, and Pull from a repository row', () => {
  let dockerd: Dockerd;
  let engine: Engine;
  const base = 'berth-rm/app:base';

  before(async () => {
    dockerd = await startDockerd();
    engine = new Engine({ socketPath: dockerd.socket });
    const ctx = busyboxContext(2, 'berth-rm');
    try {
      await dockerd.docker(['build', '-q', '-t', base, ctx]);
    } finally {
      removeDir(ctx);
    }
  });
  after(async () => {
    await registry?.stop();
    await dockerd?.stop();
  });
  let registry: BerthRegistry | undefined;

  const deps = (answers: Answer[]): TestDeps => {
    const d = testDeps(answers);
    d.engine = async () => engine;
    return d;
  };
  /** The Local Images view's rows, as the tree builds them from the engine. */
  const rows = async (): Promise<LocalImageNode[]> => imageRows((await engine.listImages()).map(toLocalImage));
  const row = async (reference: string): Promise<LocalImageNode> => {
    const found = (await rows()).find((r) => r.image.reference === reference);
    assert.ok(found, `a row for ${reference}`);
    return found;
  };
  /** A fresh image (its own layer), so tests do not share what they remove. */
  const build = async (reference: string): Promise<void> => {
    const ctx = busyboxContext(1, reference.replace(/[^a-z0-9]/g, '-'));
    try {
      await dockerd.docker(['build', '-q', '-t', reference, ctx]);
    } finally {
      removeDir(ctx);
    }
  };

  it('removing one of two tags keeps the image under the other, and says so before and after', async () => {
    await dockerd.docker(['tag', base, 'berth-rm/app:second']);
    const d = deps([{ button: 'Remove' }]);
    await runCommand(removeLocalImage, d, [await row('berth-rm/app:second')]);
    assert.deepEqual(d.ui.messages('error'), []);
    const confirm = d.ui.shown.find((s) => s.kind === 'warn');
    assert.equal(confirm?.text, 'Remove berth-rm/app:second from the container engine?');
    assert.match((confirm?.options as { detail?: string }).detail ?? '', /Only the tag is removed: the image \w{12} stays under berth-rm\/app:base/);
    assert.deepEqual((await rows()).map((r) => r.image.reference).filter((r) => r?.startsWith('berth-rm/app')), [base]);
    assert.match(d.ui.messages('info')[0] ?? '', /^Untagged berth-rm\/app:second; the image stays under berth-rm\/app:base\.$/);
    assert.equal(d.tree.imagesRefreshed, 1);
  });

  it('removing the last tag of an image no container uses deletes the image', async () => {
    await build('berth-rm/gone:1');
    const id = (await row('berth-rm/gone:1')).image.id;
    const d = deps([{ button: 'Remove' }]);
    await runCommand(removeLocalImage, d, [await row('berth-rm/gone:1')]);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.ok(!(await rows()).some((r) => r.image.id === id), 'the image is gone from the view');
    assert.match(d.ui.messages('info')[0] ?? '', /^Removed berth-rm\/gone:1 \(\d+ image layers? deleted\)\.$/);
  });

  it('declining the confirmation removes nothing', async () => {
    const d = deps([{ button: undefined }]);
    await runCommand(removeLocalImage, d, [await row(base)]);
    await row(base);
    assert.equal(d.tree.imagesRefreshed, 0);
  });

  it('an image a stopped container uses: the refusal is shown in the engine’s words with force offered; declining keeps it, forcing untags it', async () => {
    await build('berth-rm/used:1');
    const container = (await dockerd.docker(['create', '--network', 'none', 'berth-rm/used:1'])).stdout.trim();
    try {
      const declined = deps([{ button: 'Remove' }, { button: undefined }]);
      await runCommand(removeLocalImage, declined, [await row('berth-rm/used:1')]);
      const refusal = declined.ui.shown.filter((s) => s.kind === 'warn')[1];
      assert.equal(refusal?.text, 'The engine refused to remove berth-rm/used:1: a container uses it.');
      assert.match((refusal?.options as { detail?: string }).detail ?? '', new RegExp(`container ${container.slice(0, 12)}`));
      assert.deepEqual(refusal?.items, ['Remove Anyway']);
      assert.deepEqual(declined.ui.messages('error'), []);
      await row('berth-rm/used:1');

      const forced = deps([{ button: 'Remove' }, { button: 'Remove Anyway' }]);
      await runCommand(removeLocalImage, forced, [await row('berth-rm/used:1')]);
      assert.deepEqual(forced.ui.messages('error'), []);
      assert.ok(!(await rows()).some((r) => r.image.reference === 'berth-rm/used:1'), 'the tag is gone from the view');
      // What force removes is the engine's choice (the tag, and the image unless it is still needed); the message follows it.
      assert.match(forced.ui.messages('info')[0] ?? '', /^(Removed berth-rm\/used:1 \(\d+ image layers? deleted\)|Untagged berth-rm\/used:1; the image stays while a container uses it)\.$/);
    } finally {
      await dockerd.docker(['rm', container]);
    }
  });

  it('an image a running container uses: force untags it, and its untagged row is refused with what to do (the engine never forces that)', async () => {
    await build('berth-rm/running:1');
    const id = (await row('berth-rm/running:1')).image.id;
    const container = (await dockerd.docker(['run', '-d', '--network', 'none', 'berth-rm/running:1', 'sleep', '300'])).stdout.trim();
    try {
      const forced = deps([{ button: 'Remove' }, { button: 'Remove Anyway' }]);
      await runCommand(removeLocalImage, forced, [await row('berth-rm/running:1')]);
      assert.deepEqual(forced.ui.messages('error'), []);
      assert.match(forced.ui.messages('info')[0] ?? '', /^Untagged berth-rm\/running:1; the image stays while a container uses it\.$/);
      const untagged = (await rows()).find((r) => r.image.id === id);
      assert.ok(untagged && untagged.image.reference === undefined, 'the image stays, untagged');
      const refused = deps([{ button: 'Remove' }]);
      await runCommand(removeLocalImage, refused, [untagged]);
      assert.match(refused.ui.messages('error')[0] ?? '', /is used by a running container, so the engine will not remove it, even with force: .*Stop and remove the container first\.$/);
      assert.equal(refused.ui.shown.filter((s) => s.kind === 'warn').length, 1, 'no force offered where the engine refuses it');
      assert.ok((await rows()).some((r) => r.image.id === id), 'still there');
    } finally {
      await dockerd.docker(['rm', '-f', container]);
    }
  });

  it('Pull Image on a repository row asks which tag (latest first), and shows progress layer by layer in the notification and the log', async () => {
    registry = await startBerthRegistry();
    const ctx = busyboxContext(3, 'berth-pull');
    const remote = `${registry.host}/team/pulled`;
    try {
      await dockerd.docker(['build', '-q', '-t', `${remote}:1.0`, ctx]);
    } finally {
      removeDir(ctx);
    }
    await dockerd.docker(['tag', `${remote}:1.0`, `${remote}:latest`]);
    for (const tag of ['1.0', 'latest']) await dockerd.docker(['push', `${remote}:${tag}`]);
    for (const tag of ['1.0', 'latest']) await dockerd.docker(['rmi', `${remote}:${tag}`]);
    const d = deps([{ pick: 'latest' }]);
    d.local = { ...d.local, status: () => ({ state: 'running', port: registry?.port }), entry: () => ({ id: 'local', label: 'Local registry', server: registry?.host ?? '', preset: 'local', insecureHttp: true }) };
    const api = new ClientRegistryApi({ store: d.store, localEntry: () => d.local.entry() });
    d.registry = async () => api;
    const repo: RepositoryNode = { kind: 'repository', parent: { kind: 'registry', registry: d.local.entry(), local: d.local.status() }, name: 'team/pulled' };
    await runCommand(pullImage, d, [repo]);
    assert.deepEqual(d.ui.messages('error'), []);
    const pick = d.ui.shown.find((s) => s.kind === 'pick');
    assert.equal(pick?.text, 'Pull Image: which tag of team/pulled?');
    assert.deepEqual(pick?.items, ['latest', '1.0']);
    await row(`127.0.0.1:${registry.port}/team/pulled:latest`);
    // The notification names layers in flight with their bytes, not only a total.
    const messages = d.ui.progress.map((p) => p.message ?? '');
    assert.ok(messages.some((m) => /^\d+\/\d+ layers · .*[0-9a-f]{12} (Downloading [\d.]+ \w?B of [\d.]+ \w?B|Extracting|Waiting|Pulling fs layer|Verifying Checksum)/.test(m)), messages.join('\n'));
    // The log keeps one line per layer state, ending complete.
    const layerLines = d.log.lines.filter((l) => /^info {3}layer [0-9a-f]{12}: /.test(l));
    const layers = new Set(layerLines.map((l) => /layer ([0-9a-f]{12}):/.exec(l)?.[1]));
    assert.ok(layers.size >= 3, `a line per layer: ${layerLines.join('\n')}`);
    for (const id of layers) assert.ok(layerLines.some((l) => new RegExp(`layer ${id}: (Pull complete|Already exists)`).test(l)), `${id} ends complete:\n${layerLines.join('\n')}`);
    assert.ok(layerLines.some((l) => / Pull complete \(\d+ B\)$/.test(l)), 'a downloaded layer says its size');
    assert.match(d.log.lines.join('\n'), new RegExp(`info Pulled 127\\.0\\.0\\.1:${registry.port}/team/pulled:latest: \\d+ layers`));
  });
});
