import { strict as assert } from 'node:assert';
import { RegistryClient } from '../../../src/client';
import { MediaType } from '../../../src/oci/mediaTypes';
import { compareImages, renderComparison } from '../../../src/image/compare';
import { ImageFiles, LayerCache } from '../../../src/image/imageFiles';
import { imageSummary } from '../../../src/image/summary';
import { layerTar } from '../../support/layerTar';
import { blobOf, buildImage, layerOf, pushBuilt, type Layer } from '../../support/ociImage';
import { TARGETS, useRegistry } from '../clients/targets';

function image(layers: Layer[], run: Record<string, unknown>) {
  const config = { architecture: 'amd64', os: 'linux', config: run, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } };
  return buildImage({ layers, config: blobOf(JSON.stringify(config), MediaType.ociConfig) });
}

for (const target of TARGETS) {
  describe(`comparing two tags on ${target.name}`, function () {
    const registry = useRegistry(target);

    it('shows shared and own layers, changed config fields and added, removed and changed files', async function () {
      const base = layerOf(await layerTar([
        { path: 'etc', type: 'directory' }, { path: 'etc/app.conf', content: 'port=80\n' }, { path: 'etc/keep', content: 'same\n' },
        { path: 'lib', type: 'directory' }, { path: 'lib/old', type: 'directory' }, { path: 'lib/old/a', content: 'a' }, { path: 'lib/old/b', content: 'b' },
      ]), { gzip: true });
      const v1 = image([base, layerOf(await layerTar([{ path: 'bin/run', content: 'v1', mode: 0o755 }]), { gzip: true })],
        { Cmd: ['run'], Env: ['MODE=prod', 'GONE=1'], Labels: { version: '1' } });
      const v2 = image([base, layerOf(await layerTar([
        { path: 'bin/run', content: 'v2!', mode: 0o755 }, { path: 'etc/app.conf', content: 'port=80\n', mode: 0o600 },
        { path: 'lib/old', type: 'whiteout' }, { path: 'usr/share/new', content: 'n' },
      ]), { gzip: true })], { Cmd: ['run', '--fast'], Env: ['MODE=prod', 'ADDED=2'], Labels: { version: '2' }, User: 'app' });
      await pushBuilt(registry().url, 'cmp/app', v1, 'v1');
      await pushBuilt(registry().url, 'cmp/app', v2, 'v2');

      const client = new RegistryClient();
      try {
        const reg = client.registry(registry().host);
        const cache = new LayerCache();
        const [a, b] = await Promise.all(['v1', 'v2'].map((t) => imageSummary(reg, { repository: 'cmp/app', reference: t })));
        const [fa, fb] = await Promise.all(['v1', 'v2'].map((t) => ImageFiles.open(reg, { repository: 'cmp/app', reference: t }, cache)));
        const c = compareImages(a!, b!, { a: await fa!.tree(), b: await fb!.tree() });
        assert.deepEqual(c.layers.shared.map((l) => l.digest), [base.descriptor.digest]);
        assert.equal(c.layers.commonBase, 1);
        assert.deepEqual(c.layers.onlyA.map((l) => l.digest), [v1.layers[1]?.descriptor.digest]);
        assert.deepEqual(c.layers.onlyB.map((l) => l.digest), [v2.layers[1]?.descriptor.digest]);
        assert.deepEqual(c.config, [
          { field: 'Cmd', a: '["run"]', b: '["run","--fast"]' },
          { field: 'User', b: 'app' },
          { field: 'Env ADDED', b: '2' },
          { field: 'Env GONE', a: '1' },
          { field: 'Label version', a: '1', b: '2' },
        ]);
        assert.deepEqual(c.files?.added.map((f) => f.path), ['usr']);
        assert.deepEqual(c.files?.removed.map((f) => f.path), ['lib/old']);
        assert.deepEqual(c.files?.changed.map((f) => [f.path, f.what]), [['bin/run', ['content']], ['etc/app.conf', ['mode']]]);
        const page = renderComparison(registry().host, c);
        for (const text of ['1 shared (the bottom 1 in the same order), 1 only in A, 1 only in B', '| Label version | 1 | 2 |', '1 added, 1 removed, 2 changed', '| mode | `/etc/app.conf` |']) {
          assert.ok(page.includes(text), `comparison lacks ${text}:\n${page}`);
        }
        assert.equal(cache.layerReads, 3, 'the shared layer was read once');
      } finally {
        client.close();
      }
    });
  });
}
