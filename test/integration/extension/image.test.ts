/**
 * The image commands against a real registry (and, for Build and Push, a real engine): what a
 * person gets from the tree's context menu, with VS Code's window as the scripted fake.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import { browseFiles } from '../../../src/commands/browseFiles';
import { buildAndPush } from '../../../src/commands/buildAndPush';
import { runCommand } from '../../../src/commands/command';
import { compareTags } from '../../../src/commands/compareTags';
import { ImageFileBackend } from '../../../src/app/imageFileBackend';
import { showArtifacts } from '../../../src/commands/showArtifacts';
import { openArtifact } from '../../../src/commands/openArtifact';
import { showImage } from '../../../src/commands/showImage';
import { RegistryTreeData } from '../../../src/views/registryTreeData';
import { Engine } from '../../../src/engine';
import { MediaType } from '../../../src/oci/mediaTypes';
import type { RegistryNode, RegistryTreeNode, RepositoryNode, TagNode } from '../../../src/views/nodes';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { BUSYBOX } from '../../support/images';
import { layerTar } from '../../support/layerTar';
import { blobOf, buildArtifact, buildImage, layerOf, listTags, pushBuilt, type BuiltImage } from '../../support/ociImage';
import { removeDir, tempDir } from '../../support/proc';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

describe('image commands: the image page, artifacts, compare, files, build and push', function () {
  let registry: BerthRegistry;
  let v1: BuiltImage;
  let api: ClientRegistryApi;
  let deps: TestDeps;
  const localEntry = () => ({ id: 'local', label: 'Local registry', server: registry.host, preset: 'local' as const, insecureHttp: true });
  const tagNode = (repo: string, tag: string): TagNode => {
    const reg: RegistryNode = { kind: 'registry', registry: localEntry(), local: { state: 'running', port: registry.port } };
    const repository: RepositoryNode = { kind: 'repository', parent: reg, name: repo };
    return { kind: 'tag', parent: repository, tag };
  };
  const withAnswers = (answers: Answer[]): TestDeps => {
    deps = testDeps(answers, { state: 'running', port: registry.port });
    deps.registry = async () => api;
    deps.local = { ...deps.local, entry: localEntry };
    return deps;
  };

  before(async function () {
    registry = await startBerthRegistry();
    api = new ClientRegistryApi({ store: testDeps().store, localEntry });
    const layer = async (files: Record<string, string>) => layerOf(await layerTar(Object.entries(files).map(([path, content]) => ({ path, content }))), { gzip: true });
    const base = await layer({ 'etc/motd': 'hello\n' });
    const config = (cmd: string[], diffIds: string[]) => blobOf(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: '2025-01-02T03:04:05Z', config: { Cmd: cmd, Env: ['A=1'] },
      rootfs: { type: 'layers', diff_ids: diffIds }, history: [{ created_by: 'COPY motd /etc/ # buildkit' }, { created_by: 'COPY app /app # buildkit' }],
    }), MediaType.ociConfig);
    const l1 = await layer({ 'app/run': 'v1' });
    v1 = buildImage({ layers: [base, l1], config: config(['/app/run'], [base.diffId, l1.diffId]) });
    const l2 = await layer({ 'app/run': 'v2', 'app/new': 'n' });
    const v2 = buildImage({ layers: [base, l2], config: config(['/app/run', '--v2'], [base.diffId, l2.diffId]) });
    await pushBuilt(registry.url, 'team/app', v1, 'v1');
    await pushBuilt(registry.url, 'team/app', v2, 'v2');
    await pushBuilt(registry.url, 'team/app', buildArtifact({
      subject: v1.descriptor, artifactType: 'application/spdx+json', annotations: { 'org.opencontainers.image.created': '2025-01-03T00:00:00Z' },
      blobs: [blobOf('{"spdxVersion":"SPDX-2.3","name":"app"}', 'application/spdx+json')],
    }));
  });
  after(async function () {
    await registry?.stop();
  });

  it('Show Image opens the image page as Markdown', async function () {
    const d = withAnswers([]);
    await runCommand(showImage, d, [tagNode('team/app', 'v1')]);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.equal(d.ui.opened[0]?.language, 'markdown');
    const page = [...d.docsPut.values()][0] ?? '';
    for (const text of ['`["/app/run"]`', '| `A` | 1 |', '`COPY app /app`', v1.digest]) assert.ok(page.includes(text), `page lacks ${text}`);
  });

  it('Show Signatures, SBOMs and Artifacts lists the SBOM and opens its manifest and payload', async function () {
    const d = withAnswers([{ pick: 'SBOM (SPDX)' }]);
    await runCommand(showArtifacts, d, [tagNode('team/app', 'v1')]);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.deepEqual(d.ui.shown.find((s) => s.kind === 'pick')?.items, ['SBOM (SPDX)']);
    const docs = [...d.docsPut.values()];
    assert.equal(docs.length, 2);
    assert.match(docs[0] ?? '', /"artifactType": "application\/spdx\+json"/);
    assert.match(docs[1] ?? '', /"spdxVersion": "SPDX-2.3"/);
  });

  it('the tree shows a Referrers group under the digest, and a row opens the artifact', async function () {
    const d = withAnswers([]);
    const tree = new RegistryTreeData({ store: d.store, local: d.local, settings: d.settings, registry: async () => api });
    try {
      const find = async (parent: RegistryTreeNode | undefined, pred: (n: RegistryTreeNode) => boolean): Promise<RegistryTreeNode> => {
        const found = (await tree.getChildren(parent)).find(pred);
        assert.ok(found, 'expected child not found');
        return found;
      };
      const local = await find(undefined, (n) => n.kind === 'registry');
      const repo = await find(local, (n) => n.kind === 'repository' && n.name === 'team/app');
      const v1Tag = await find(repo, (n) => n.kind === 'tag' && n.tag === 'v1');
      const digest = await find(v1Tag, (n) => n.kind === 'manifest');
      const group = await find(digest, (n) => n.kind === 'referrers');
      const [row, ...rest] = await tree.getChildren(group);
      assert.equal(rest.length, 0);
      assert.ok(row?.kind === 'artifact' && row.artifact.label === 'SBOM (SPDX)' && row.artifact.created === '2025-01-03T00:00:00Z');
      await runCommand(openArtifact, d, [row]);
      assert.deepEqual(d.ui.messages('error'), []);
      assert.match([...d.docsPut.values()][1] ?? '', /"spdxVersion": "SPDX-2.3"/);
      // Nothing refers to v2: its digest says so instead of an empty, unexplained expansion.
      const v2Digest = await find(await find(repo, (n) => n.kind === 'tag' && n.tag === 'v2'), (n) => n.kind === 'manifest');
      const [none] = await tree.getChildren(v2Digest);
      assert.ok(none?.kind === 'message' && /No signatures, SBOMs or attestations/.test(none.message));
    } finally {
      tree.dispose();
    }
  });

  it('Show Signatures, SBOMs and Artifacts says so when nothing refers to the image', async function () {
    const d = withAnswers([]);
    await runCommand(showArtifacts, d, [tagNode('team/app', 'v2')]);
    assert.match(d.ui.messages('info')[0] ?? '', /Nothing refers to Local registry: team\/app:v2/);
  });

  it('Compare With Tag shows the layer, config and file differences', async function () {
    const d = withAnswers([{ pick: 'v2' }]);
    await runCommand(compareTags, d, [tagNode('team/app', 'v1')]);
    assert.deepEqual(d.ui.messages('error'), []);
    const page = [...d.docsPut.values()][0] ?? '';
    for (const text of ['1 shared (the bottom 1 in the same order), 1 only in A, 1 only in B', '| Cmd | ["/app/run"] | ["/app/run","--v2"] |', '1 added, 0 removed, 1 changed']) {
      assert.ok(page.includes(text), `comparison lacks ${text}:\n${page}`);
    }
  });

  it('Browse Files adds the image as a folder whose files the berth-image file system serves', async function () {
    const d = withAnswers([]);
    await runCommand(browseFiles, d, [tagNode('team/app', 'v1')]);
    const folder = d.ui.folders[0];
    assert.equal(folder?.uri, 'berth-image://local/team~app:v1');
    assert.equal(folder?.name, 'Local registry: team/app:v1');
    const backend = new ImageFileBackend(async (id) => (id === 'local' ? api.registryFor(localEntry()) : undefined));
    const uri = new URL(folder?.uri ?? '');
    assert.deepEqual((await backend.list('local', uri.pathname)).map(([name, s]) => [name, s.type]), [['app', 'directory'], ['etc', 'directory']]);
    assert.equal(Buffer.from(await backend.read('local', `${uri.pathname}/etc/motd`)).toString(), 'hello\n');
    await assert.rejects(backend.stat('local', `${uri.pathname}/nope`), /does not exist/);
    await assert.rejects(backend.stat('gone', uri.pathname), /not connected any more/);
  });

  describe('Build and Push', function () {
    let dockerd: Dockerd;
    let context: string;
    before(async function () {
      dockerd = await startDockerd();
      context = tempDir('build-cmd');
      copyFileSync(BUSYBOX, join(context, 'busybox'));
      writeFileSync(join(context, 'Dockerfile'), [
        'FROM scratch AS base', 'COPY busybox /bin/busybox', 'ARG NOTE=default-note', 'RUN ["/bin/busybox", "sh", "-c", "echo $NOTE > /note"]',
        'FROM base AS final', 'CMD ["/bin/busybox", "cat", "/note"]', '',
      ].join('\n'));
    });
    after(async function () {
      await dockerd?.stop();
      if (context) removeDir(context);
    });

    it('builds the Dockerfile with the arguments and stage asked, pushes it, and refreshes the tree', async function () {
      const d = withAnswers([
        { pick: 'Local registry' }, { input: 'team/built' }, { input: 'v7' },
        { pickMany: ['NOTE'] }, { input: 'from-the-command' },
        { pick: 'base' },
      ]);
      const engine = new Engine({ socketPath: dockerd.socket });
      d.engine = async () => engine;
      await runCommand(buildAndPush, d, [{ fsPath: join(context, 'Dockerfile'), scheme: 'file' }]);
      assert.deepEqual(d.ui.messages('error'), []);
      assert.equal(d.ui.remaining, 0);
      assert.deepEqual(await listTags(registry.url, 'team/built'), ['v7']);
      assert.ok(d.log.lines.some((l) => /Step 4\/4 : RUN/.test(l)), d.log.lines.join('\n'));
      assert.ok(d.tree.refreshed.length > 0, 'the registry node was refreshed');
      assert.match(d.ui.messages('info').join('\n'), new RegExp(`Pushed ${registry.host}/team/built:v7`));
      const backend = new ImageFileBackend(async () => api.registryFor(localEntry()));
      assert.equal(Buffer.from(await backend.read('local', '/team~built:v7/note')).toString(), 'from-the-command\n');
    });

    it('refuses a Dockerfile without FROM before asking anything', async function () {
      writeFileSync(join(context, 'Bad.dockerfile'), 'RUN echo\n');
      const d = withAnswers([]);
      await runCommand(buildAndPush, d, [{ fsPath: join(context, 'Bad.dockerfile'), scheme: 'file' }]);
      assert.match(d.ui.messages('error')[0] ?? '', /Bad\.dockerfile cannot be built: The Dockerfile has no FROM instruction/);
    });
  });
});
