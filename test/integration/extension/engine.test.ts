/** Pushing and pulling through a real dockerd with the command logic (fake window only). */
import { strict as assert } from 'node:assert';
import { runCommand } from '../../../src/commands/command';
import { pullImage } from '../../../src/commands/pullImage';
import { retagAndPush } from '../../../src/commands/retagAndPush';
import { Engine } from '../../../src/engine/engine';
import type { LocalImageNode, TagNode } from '../../../src/views/nodes';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { dockerBuildScratch } from '../../support/clients';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { busyboxContext } from '../../support/images';
import { listTags } from '../../support/ociImage';
import { removeDir } from '../../support/proc';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

describe('engine commands through a real dockerd', () => {
  let dockerd: Dockerd;
  let registry: BerthRegistry;
  let engine: Engine;
  let imageId: string;
  const source = 'berth-ext/app:dev';

  before(async () => {
    dockerd = await startDockerd();
    registry = await startBerthRegistry();
    engine = new Engine({ socketPath: dockerd.socket });
    const ctx = busyboxContext(3, 'berth-ext');
    try {
      await dockerd.docker(['build', '-q', '-t', source, ctx]);
    } finally {
      removeDir(ctx);
    }
    imageId = (await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', source])).stdout.trim();
  });
  after(async () => {
    await registry?.stop();
    await dockerd?.stop();
  });

  const deps = (answers: Answer[]): TestDeps => {
    const d = testDeps(answers, { state: 'running', port: registry.port });
    d.engine = async () => engine;
    d.local = { ...d.local, entry: () => ({ id: 'local', label: 'Local registry', server: registry.host, preset: 'local', insecureHttp: true }) };
    return d;
  };
  const image = (id = imageId, reference = source): LocalImageNode => ({ kind: 'localImage', image: { id, reference, repoTags: [reference], sizeBytes: 1, createdMs: 0 } });

  it('Retag and Push: asks registry, repository and tag, pushes with per-layer progress, and refreshes the trees', async () => {
    const d = deps([{ pick: 'Local registry' }, { input: 'team/app' }, { input: '1.0' }]);
    await runCommand(retagAndPush, d, [image()]);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.deepEqual(await listTags(registry.url, 'team/app'), ['1.0']);
    const layerLines = d.ui.progress.map((p) => p.message ?? '').filter((m) => / layers · /.test(m));
    assert.ok(layerLines.length > 0, `per-layer progress: ${JSON.stringify(d.ui.progress.slice(0, 3))}`);
    assert.ok(d.ui.progress.reduce((s, p) => s + (p.increment ?? 0), 0) <= 100);
    assert.match(d.ui.messages('info').at(-1) ?? '', new RegExp(`Pushed ${registry.host.replace(/\./g, '\\.')}/team/app:1\\.0`));
    assert.equal(d.tree.imagesRefreshed, 1);
  });

  it('a push cancelled from the notification says so and leaves no tag, in the registry or the engine', async () => {
    // An image with a layer of its own: the registry already holds the other image's layers, and a push that
    // only mounts them can finish before the cancel reaches the engine.
    const big = 'berth-ext/cancel:dev';
    await dockerBuildScratch(dockerd, big, { layers: 1, label: 'berth-ext-cancel', bigFileBytes: 32 * 1024 * 1024 });
    const bigId = (await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', big])).stdout.trim();
    const d = deps([{ pick: 'Local registry' }, { input: 'team/cancelled' }, { input: '1.0' }, { button: undefined }]);
    // Cancel as the first progress line arrives, as a person pressing Cancel on the notification.
    d.ui.withProgress = async (title, _cancellable, task) => {
      const abort = new AbortController();
      return task(() => abort.abort(), abort.signal);
    };
    await runCommand(retagAndPush, d, [image(bigId, big)]);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.match(d.ui.messages('info')[0] ?? '', new RegExp(`^Push of ${registry.host.replace(/\./g, '\\.')}/team/cancelled:1\\.0 cancelled\\. Its temporary tag was removed\\.`));
    const tags = await fetch(`${registry.url}/v2/team/cancelled/tags/list`);
    assert.notEqual(tags.status, 200, 'no tag was written');
    assert.ok(!(await engine.listImages()).some((i) => i.tags.includes(`${registry.host}/team/cancelled:1.0`)), 'the tag added for the push is gone');
  });

  it('Pull: pulls a tag of the registry into the engine', async () => {
    await dockerd.docker(['rmi', `${registry.host}/team/app:1.0`]);
    const d = deps([]);
    const tag: TagNode = { kind: 'tag', parent: { kind: 'repository', parent: { kind: 'registry', registry: d.local.entry(), local: { state: 'running', port: registry.port } }, name: 'team/app' }, tag: '1.0' };
    await runCommand(pullImage, d, [tag]);
    assert.deepEqual(d.ui.messages('error'), []);
    const images = await engine.listImages();
    assert.ok(images.some((i) => i.tags.includes(`127.0.0.1:${registry.port}/team/app:1.0`)), JSON.stringify(images.map((i) => i.tags)));
  });
});
