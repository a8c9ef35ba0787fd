import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { containerTools, skopeoDigest, type ContainerTools } from '../../support/clients';
import { MediaType } from '../../../src/oci/mediaTypes';
import {
  blobOf, buildArtifact, buildImage, buildIndex, getManifest, getReferrers, pushBuilt, randomLayer, writeOciLayout,
} from '../../support/ociImage';
import { TARGETS, useRegistry, type RunningRegistry } from './targets';

const SBOM = 'application/vnd.example.sbom.v1';
const SIGNATURE = 'application/vnd.example.signature.v1';

for (const target of TARGETS) {
  describe(`artifacts with a subject on ${target.name}`, function () {
    let registry: RunningRegistry;
    let tools: ContainerTools;
    before(async function () {
      registry = await target.start();
      tools = containerTools();
    });
    after(async function () {
      await registry?.stop();
      await tools?.cleanup();
    });

    it('accepts an artifact whose subject was pushed first and serves it byte for byte', async function () {
      const subject = buildImage();
      await pushBuilt(registry.url, 'ref/first', subject, 'v1');
      const sbom = buildArtifact({ subject: subject.descriptor, artifactType: SBOM });
      const pushed = await pushBuilt(registry.url, 'ref/first', sbom);
      assert.equal(pushed.digest, sbom.digest);
      if (target.referrersApi) assert.equal(pushed.headers.get('oci-subject'), subject.digest);
      const got = await getManifest(registry.url, 'ref/first', sbom.digest);
      assert.equal(got.status, 200);
      assert.ok(got.bytes.equals(sbom.bytes));
    });

    it('accepts an artifact pushed before its subject', async function () {
      const subject = buildImage();
      const signature = buildArtifact({ subject: subject.descriptor, artifactType: SIGNATURE });
      const pushed = await pushBuilt(registry.url, 'ref/early', signature);
      assert.equal(pushed.status, 201);
      await pushBuilt(registry.url, 'ref/early', subject, 'v1');
      if (target.referrersApi) {
        const referrers = await getReferrers(registry.url, 'ref/early', subject.digest);
        assert.deepEqual(referrers.index?.manifests.map((d) => d.digest), [signature.digest]);
      }
    });

    it('copies an artifact from an OCI layout with skopeo, keeping its digest', async function () {
      const subject = buildImage({ layers: [randomLayer(1024, { gzip: true })] });
      await pushBuilt(registry.url, 'ref/skopeo', subject, 'v1');
      const sbom = buildArtifact({
        subject: subject.descriptor, artifactType: SBOM,
        blobs: [blobOf(JSON.stringify({ packages: ['busybox'] }), 'application/spdx+json')],
      });
      const dir = join(tools.dir, 'layout');
      writeOciLayout(dir, sbom, 'sbom');
      await tools.skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${dir}:sbom`, `docker://${registry.host}/ref/skopeo:sbom`]);
      assert.equal(await skopeoDigest(tools, `${registry.host}/ref/skopeo:sbom`), sbom.digest);
      if (target.referrersApi) {
        const referrers = await getReferrers(registry.url, 'ref/skopeo', subject.digest);
        assert.deepEqual(referrers.index?.manifests.map((d) => d.digest), [sbom.digest]);
      }
    });
  });
}

for (const target of TARGETS.filter((t) => t.referrersApi)) {
  describe(`referrers API on ${target.name}`, function () {
    const registry = useRegistry(target);

    it('lists every referrer with artifactType and annotations, and filters by artifactType', async function () {
      const subject = buildIndex();
      await pushBuilt(registry().url, 'ref/api', subject, 'v1');
      const sbom = buildArtifact({ subject: subject.descriptor, artifactType: SBOM, annotations: { 'org.example.sbom.format': 'json' } });
      const signature = buildArtifact({ subject: subject.descriptor, artifactType: SIGNATURE, annotations: { 'org.example.signature.fingerprint': 'abcd' } });
      // Without artifactType, a manifest's referrer entry takes the config's media type.
      const plain = buildImage({ subject: subject.descriptor });
      // An index without artifactType is listed without one.
      const bundle = buildIndex({ subject: subject.descriptor, platforms: [{ os: 'linux', architecture: 'amd64' }] });
      for (const referrer of [sbom, signature, plain, bundle]) {
        const pushed = await pushBuilt(registry().url, 'ref/api', referrer);
        assert.equal(pushed.headers.get('oci-subject'), subject.digest, `OCI-Subject for ${referrer.digest}`);
      }

      const all = await getReferrers(registry().url, 'ref/api', subject.digest);
      assert.equal(all.status, 200);
      assert.equal(all.headers.get('content-type'), MediaType.ociIndex);
      const byDigest = new Map(all.index?.manifests.map((d) => [d.digest, d]));
      assert.equal(byDigest.size, 4);
      const expected = [
        { built: sbom, artifactType: SBOM, annotations: { 'org.example.sbom.format': 'json' } },
        { built: signature, artifactType: SIGNATURE, annotations: { 'org.example.signature.fingerprint': 'abcd' } },
        { built: plain, artifactType: MediaType.ociConfig, annotations: undefined },
        { built: bundle, artifactType: undefined, annotations: undefined },
      ];
      for (const e of expected) {
        const d = byDigest.get(e.built.digest);
        assert.ok(d, `referrer ${e.built.digest} missing`);
        assert.equal(d.mediaType, e.built.mediaType);
        assert.equal(d.size, e.built.bytes.length);
        assert.equal(d.artifactType, e.artifactType);
        assert.deepEqual(d.annotations, e.annotations);
      }

      const filtered = await getReferrers(registry().url, 'ref/api', subject.digest, SBOM);
      assert.equal(filtered.status, 200);
      assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual(filtered.index?.manifests.map((d) => d.digest), [sbom.digest]);
    });

    it('answers an empty index, not 404, for a digest nothing refers to', async function () {
      const subject = buildImage();
      await pushBuilt(registry().url, 'ref/none', subject, 'v1');
      const none = await getReferrers(registry().url, 'ref/none', subject.digest);
      assert.equal(none.status, 200);
      assert.deepEqual(none.index?.manifests, []);
    });

    it('drops a referrer from the list once its manifest is deleted', async function () {
      const subject = buildImage();
      await pushBuilt(registry().url, 'ref/deleted', subject, 'v1');
      const sbom = buildArtifact({ subject: subject.descriptor, artifactType: SBOM });
      await pushBuilt(registry().url, 'ref/deleted', sbom);
      const del = await fetch(`${registry().url}/v2/ref/deleted/manifests/${sbom.digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      const after = await getReferrers(registry().url, 'ref/deleted', subject.digest);
      assert.deepEqual(after.index?.manifests, []);
    });
  });
}
