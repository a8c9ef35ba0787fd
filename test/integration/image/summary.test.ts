import { strict as assert } from 'node:assert';
import { RegistryClient } from '../../../src/client';
import { MediaType } from '../../../src/oci/mediaTypes';
import { imageSummary, renderImageSummary } from '../../../src/image/summary';
import { blobOf, buildImage, buildIndex, pushBuilt, randomLayer, type BuiltImage } from '../../support/ociImage';
import { TARGETS, useRegistry } from '../clients/targets';

function configuredImage(format: 'oci' | 'docker', architecture = 'amd64'): BuiltImage {
  const layers = [randomLayer(3000, { gzip: true, format }), randomLayer(500, { gzip: true, format })];
  const config = {
    created: '2025-03-04T05:06:07Z', architecture, os: 'linux', author: 'Berth tests',
    config: {
      Entrypoint: ['/bin/app'], Cmd: ['--port', '8080'], Env: ['PATH=/usr/bin:/bin', 'GREETING=a=b c'],
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} }, User: 'app:app', WorkingDir: '/srv', Labels: { 'org.opencontainers.image.title': 'app | demo' },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: [
      { created: '2025-03-04T05:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
      { created: '2025-03-04T05:01:00Z', created_by: '/bin/sh -c #(nop)  ENV GREETING=a=b c', empty_layer: true },
      { created: '2025-03-04T05:02:00Z', created_by: 'RUN /bin/sh -c make install # buildkit' },
      { created: '2025-03-04T05:03:00Z', created_by: 'CMD ["--port" "8080"]', empty_layer: true },
    ],
  };
  return buildImage({ format, layers, config: blobOf(JSON.stringify(config), format === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig) });
}

for (const target of TARGETS) {
  describe(`the image page on ${target.name}`, function () {
    const registry = useRegistry(target);
    let client: RegistryClient;
    before(() => (client = new RegistryClient()));
    after(() => client?.close());

    for (const format of ['oci', 'docker'] as const) {
      it(`reads config, history aligned to layers and sizes of a ${format} image`, async function () {
        const image = configuredImage(format);
        await pushBuilt(registry().url, `page/${format}`, image, 'v1');
        const s = await imageSummary(client.registry(registry().host), { repository: `page/${format}`, reference: 'v1' });
        assert.equal(s.image.digest, image.digest);
        assert.deepEqual(s.run.entrypoint, ['/bin/app']);
        assert.deepEqual(s.run.cmd, ['--port', '8080']);
        assert.deepEqual(s.run.env, [{ name: 'PATH', value: '/usr/bin:/bin' }, { name: 'GREETING', value: 'a=b c' }]);
        assert.deepEqual(s.run.exposedPorts, ['53/udp', '8080/tcp']);
        assert.equal(s.run.user, 'app:app');
        assert.equal(s.created, '2025-03-04T05:06:07Z');
        assert.deepEqual(s.history.map((h) => [h.createdBy, h.layer?.index]), [
          ['ADD file:abc in /', 0], ['ENV GREETING=a=b c', undefined], ['RUN /bin/sh -c make install', 1], ['CMD ["--port" "8080"]', undefined],
        ]);
        assert.deepEqual(s.layers.map((l) => [l.digest, l.size, l.createdBy]), image.layers.map((l, i) => [l.descriptor.digest, l.bytes.length, i === 0 ? 'ADD file:abc in /' : 'RUN /bin/sh -c make install']));
        const layersBytes = image.layers.reduce((n, l) => n + l.bytes.length, 0);
        assert.equal(s.layersBytes, layersBytes);
        assert.equal(s.totalBytes, layersBytes + image.config.bytes.length + image.bytes.length);
        const page = renderImageSummary(registry().host, s);
        for (const text of ['`["/bin/app"]`', '`8080/tcp`', '| `GREETING` | a=b c |', 'app \\| demo', '`RUN /bin/sh -c make install`', `| **${layersBytes}** |`]) {
          assert.ok(page.includes(text), `page lacks ${text}:\n${page}`);
        }
      });
    }

    it('picks the platform asked for from a multi-platform tag, and names the ones there are when it is missing', async function () {
      const amd = configuredImage('oci', 'amd64');
      const arm = configuredImage('oci', 'arm64');
      const index = buildIndex({ images: [{ ...amd, platform: { os: 'linux', architecture: 'amd64' } }, { ...arm, platform: { os: 'linux', architecture: 'arm64' } }] });
      await pushBuilt(registry().url, 'page/multi', index, 'v1');
      const reg = client.registry(registry().host);
      const s = await imageSummary(reg, { repository: 'page/multi', reference: 'v1', platform: 'linux/arm64' });
      assert.equal(s.image.digest, arm.digest);
      assert.equal(s.image.topDigest, index.digest);
      assert.deepEqual(s.image.platforms, ['linux/amd64', 'linux/arm64']);
      assert.equal((await imageSummary(reg, { repository: 'page/multi', reference: 'v1' })).image.digest, amd.digest);
      await assert.rejects(imageSummary(reg, { repository: 'page/multi', reference: 'v1', platform: 'linux/s390x' }), /no image for platform linux\/s390x\. It offers linux\/amd64, linux\/arm64\./);
    });

    it('says when history and layers do not line up instead of pairing them wrongly', async function () {
      const layers = [randomLayer(100), randomLayer(100)];
      const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: [{ created_by: 'squashed' }] };
      await pushBuilt(registry().url, 'page/squashed', buildImage({ layers, config: blobOf(JSON.stringify(config), MediaType.ociConfig) }), 'v1');
      const s = await imageSummary(client.registry(registry().host), { repository: 'page/squashed', reference: 'v1' });
      assert.equal(s.historyMatchesLayers, false);
      assert.equal(s.history[0]?.layer, undefined);
      assert.match(renderImageSummary(registry().host, s), /do not line up with the 2 layers/);
    });
  });
}
