import { strict as assert } from 'node:assert';
import { gcPreview } from '../../../src/commands/localGc';
import { localMenuItems } from '../../../src/commands/localMenu';
import { TransferProgress } from '../../../src/commands/layerProgress';
import { manifestDocument, manifestDocumentPath } from '../../../src/commands/manifestDocument';
import { planPush, splitRepositoryTag, suggestedTarget } from '../../../src/commands/pushPlan';
import { dockerPullCommand, imageReference } from '../../../src/commands/references';
import { repositoryNameProblem } from '../../../src/commands/addRepository';
import { tagProblem } from '../../../src/commands/retagImage';
import { newReferenceProblem } from '../../../src/commands/tagLocalImage';
import type { RegistryNode } from '../../../src/views/nodes';
import type { ProgressEvent } from '../../../src/engine/progress';

const hub: RegistryNode = { kind: 'registry', registry: { id: 'docker.io', label: 'Docker Hub', server: 'docker.io', preset: 'dockerhub' } };
const local: RegistryNode = { kind: 'registry', registry: { id: 'local', label: 'Local registry', server: '127.0.0.1:5000', preset: 'local' }, local: { state: 'running', port: 5001 } };
const D = 'sha256:' + 'd'.repeat(64);

describe('image references', () => {
  const table: Array<{ name: string; got: string; expected: string }> = [
    { name: 'tag on Docker Hub', got: imageReference({ registry: hub, repository: 'me/app', tag: '1.0' }), expected: 'docker.io/me/app:1.0' },
    { name: 'tag on the local registry uses its port', got: imageReference({ registry: local, repository: 'team-a/api', tag: '1.4' }, 5001), expected: '127.0.0.1:5001/team-a/api:1.4' },
    { name: 'digest preferred when asked', got: imageReference({ registry: local, repository: 'a', tag: '1', digest: D }, 5001, true), expected: `127.0.0.1:5001/a@${D}` },
    { name: 'digest when there is no tag', got: imageReference({ registry: local, repository: 'a', digest: D }, 5001), expected: `127.0.0.1:5001/a@${D}` },
    { name: 'docker pull command pins the digest when known', got: dockerPullCommand({ registry: local, repository: 'a', tag: '1', digest: D }, 5001), expected: `docker pull 127.0.0.1:5001/a@${D}` },
    { name: 'docker pull command by tag', got: dockerPullCommand({ registry: hub, repository: 'library/nginx', tag: 'latest' }), expected: 'docker pull docker.io/library/nginx:latest' },
  ];
  for (const t of table) it(t.name, () => assert.equal(t.got, t.expected));
});

describe('push plan', () => {
  const table: Array<{ local: string | undefined; target: { host: string; repository: string; tag: string }; reference: string; needsTag: boolean }> = [
    { local: 'app:dev', target: { host: '127.0.0.1:5000', repository: 'team/app', tag: '1' }, reference: '127.0.0.1:5000/team/app:1', needsTag: true },
    { local: '127.0.0.1:5000/team/app:1', target: { host: '127.0.0.1:5000', repository: 'team/app', tag: '1' }, reference: '127.0.0.1:5000/team/app:1', needsTag: false },
    { local: undefined, target: { host: 'ghcr.io', repository: 'me/x', tag: 'latest' }, reference: 'ghcr.io/me/x:latest', needsTag: true },
  ];
  for (const t of table) {
    it(`${t.local ?? '<untagged>'} → ${t.reference} (${t.needsTag ? 'tag first' : 'push as is'})`, () => {
      assert.deepEqual(planPush(t.local, t.target), { reference: t.reference, needsTag: t.needsTag });
    });
  }

  it('suggests the image\'s own path without host, and without Docker Hub\'s library/', () => {
    assert.deepEqual(suggestedTarget('nginx:1.27'), { repository: 'nginx', tag: '1.27' });
    assert.deepEqual(suggestedTarget('ghcr.io/me/app'), { repository: 'me/app', tag: 'latest' });
    assert.deepEqual(suggestedTarget(undefined), { repository: '', tag: 'latest' });
    assert.deepEqual(splitRepositoryTag('host:5000/a/b:2'), { repository: 'host:5000/a/b', tag: '2' });
    assert.deepEqual(splitRepositoryTag('host:5000/a/b'), { repository: 'host:5000/a/b', tag: 'latest' });
  });
});

describe('input rules', () => {
  it('repository names follow the spec', () => {
    assert.equal(repositoryNameProblem('team/app', 'ghcr.io'), undefined);
    assert.match(repositoryNameProblem('Team/App', 'ghcr.io') ?? '', /lowercase/);
    assert.ok(repositoryNameProblem('a//b', 'ghcr.io'));
    assert.ok(repositoryNameProblem('', 'ghcr.io'));
  });
  it('tags follow the spec', () => {
    assert.equal(tagProblem('v1.2.3_rc-1'), undefined);
    assert.ok(tagProblem('-bad'));
    assert.ok(tagProblem('x'.repeat(129)));
  });
  it('a new local name is a reference without digest', () => {
    assert.equal(newReferenceProblem('localhost:5000/a/b:1'), undefined);
    assert.ok(newReferenceProblem(`a@${D}`));
    assert.ok(newReferenceProblem('UPPER/case'));
  });
});

describe('inspect manifest document', () => {
  it('has the digest, the config and the layer sizes, as JSON', () => {
    const doc = JSON.parse(
      manifestDocument(
        '127.0.0.1:5000/a:1',
        {
          digest: D,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 400,
          bytes: new Uint8Array(),
          manifest: {
            schemaVersion: 2,
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:' + '1'.repeat(64), size: 100 },
            layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:' + '2'.repeat(64), size: 900 }],
          },
        },
        { created: '2026-01-01T00:00:00Z', os: 'linux', architecture: 'amd64', raw: { os: 'linux' } },
      ),
    ) as { summary: { digest: string; totalSize: string; layers: Array<{ size: number }>; config: { created: string } }; imageConfig: unknown };
    assert.equal(doc.summary.digest, D);
    assert.match(doc.summary.totalSize, /1000 bytes: config 100, layers 900/);
    assert.equal(doc.summary.layers[0]?.size, 900);
    assert.equal(doc.summary.config.created, '2026-01-01T00:00:00Z');
    assert.deepEqual(doc.imageConfig, { os: 'linux' });
    assert.equal(manifestDocumentPath('127.0.0.1:5000', 'a/b', D), `/127.0.0.1:5000/a/b@sha256-${'d'.repeat(64)}.json`);
  });
});

describe('transfer progress', () => {
  const overall = (layersDone: number, currentBytes: number) => ({ layers: 2, layersDone, currentBytes, totalBytes: 1000 });
  it('reports layers, bytes and the current layer, and never goes backwards', () => {
    const p = new TransferProgress();
    const events: ProgressEvent[] = [
      { type: 'layer', layer: { id: 'aaa', status: 'Pushing', current: 500, total: 500, done: false }, overall: overall(0, 500) },
      { type: 'layer', layer: { id: 'aaa', status: 'Pushed', done: true }, overall: overall(1, 500) },
      { type: 'layer', layer: { id: 'bbb', status: 'Pushing', done: false }, overall: overall(1, 400) },
      { type: 'layer', layer: { id: 'bbb', status: 'Pushed', done: true }, overall: overall(2, 1000) },
    ];
    const reports = events.map((e) => p.report(e));
    assert.equal(reports[0]?.message, '0/2 layers · 500 B of 1.0 KB · aaa Pushing 500 B of 500 B');
    const total = reports.reduce((s, r) => s + (r.increment ?? 0), 0);
    assert.equal(total, 100);
    assert.ok(reports.every((r) => (r.increment ?? 0) >= 0));
  });
});

describe('transfer progress, layer by layer', () => {
  const layer = (id: string, status: string, extra: { current?: number; total?: number; sizeBytes?: number; done?: boolean } = {}): ProgressEvent =>
    ({ type: 'layer', layer: { id, status, done: false, ...extra }, overall: { layers: 4, layersDone: 0, currentBytes: 0, totalBytes: 0 } });

  it('names the layers in flight with their bytes, three at most, and logs each layer once per state', () => {
    const log: string[] = [];
    const p = new TransferProgress((l) => log.push(l));
    const events = [
      layer('aaa', 'Pushing', { current: 1000, total: 4000, sizeBytes: 4000 }),
      layer('aaa', 'Pushing', { current: 2000, total: 4000, sizeBytes: 4000 }),
      layer('bbb', 'Waiting'),
      layer('ccc', 'Preparing'),
      layer('ddd', 'Waiting'),
      layer('bbb', 'Pushed', { sizeBytes: 2_500_000, done: true }),
    ];
    const messages = events.map((e) => p.report(e).message);
    assert.equal(messages[1], '0/4 layers · aaa Pushing 2.0 KB of 4.0 KB');
    assert.equal(messages[4], '0/4 layers · aaa Pushing 2.0 KB of 4.0 KB, bbb Waiting, ccc Preparing, +1 more');
    assert.equal(messages[5], '0/4 layers · aaa Pushing 2.0 KB of 4.0 KB, ccc Preparing, ddd Waiting');
    assert.deepEqual(log, [
      '  layer aaa: Pushing 1.0 KB of 4.0 KB',
      '  layer bbb: Waiting',
      '  layer ccc: Preparing',
      '  layer ddd: Waiting',
      '  layer bbb: Pushed (2.5 MB)',
    ]);
    assert.deepEqual(p.summary(), ['  layer aaa: Pushing 2.0 KB of 4.0 KB', '  layer bbb: Pushed (2.5 MB)', '  layer ccc: Preparing', '  layer ddd: Waiting']);
  });
});

describe('local registry actions', () => {
  it('offers stop and restart while running, start while stopped', () => {
    assert.deepEqual(localMenuItems('running').map((c) => c.id), ['berth.local.stop', 'berth.local.restart', 'berth.local.showLogs', 'berth.local.openStorage', 'berth.local.gc']);
    assert.deepEqual(localMenuItems('stopped').map((c) => c.id)[0], 'berth.local.start');
  });

  it('summarises a gc dry run with readable sizes and sees when there is nothing to do', () => {
    const out = 'sha256:aa (10 bytes)\nsha256:bb (4200000 bytes)\ndry run: would remove 1 manifests and 2 blobs (4200010 bytes) and 1 abandoned uploads (2048 bytes); 5 blobs kept';
    const p = gcPreview(out);
    assert.equal(p.nothingToDo, false);
    assert.equal(p.summary, 'dry run: would remove 1 manifests and 2 blobs (4.2 MB) and 1 abandoned uploads (2.0 KB); 5 blobs kept');
    assert.match(p.detail, /sha256:aa \(10 B\)\nsha256:bb \(4\.2 MB\)/);
    assert.equal(gcPreview('dry run: would remove 0 manifests and 0 blobs (0 bytes); 3 blobs kept').nothingToDo, true);
    assert.equal(gcPreview('dry run: would remove 0 manifests and 0 blobs (0 bytes) and 1 abandoned uploads (50 bytes); 3 blobs kept, 0 recent uploads kept').nothingToDo, false);
    assert.equal(gcPreview('').nothingToDo, true);
    const long = gcPreview(Array.from({ length: 20 }, (_, i) => `blob ${i}`).join('\n'), 5);
    assert.match(long.detail, /and 15 more lines/);
  });
});
