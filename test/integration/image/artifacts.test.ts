import { strict as assert } from 'node:assert';
import { RegistryClient } from '../../../src/client';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import type { Descriptor } from '../../../src/oci/types';
import { fallbackTags, listArtifacts, readArtifactPayloads } from '../../../src/image/artifacts';
import { blobOf, buildArtifact, buildImage, pushBuilt, pushManifest, type BuiltImage } from '../../support/ociImage';
import { TARGETS, useRegistry } from '../clients/targets';

const CREATED = 'org.opencontainers.image.created';
const STATEMENT = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'app', digest: { sha256: '0'.repeat(64) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: { buildDefinition: { buildType: 'https://example.invalid/build' } },
};

/** The artifacts real tools attach, with their media types, annotations and payloads. */
function artifactsFor(subject: Descriptor): Array<{ built: BuiltImage; label: string; kind: string }> {
  const spdx = { spdxVersion: 'SPDX-2.3', name: 'app', packages: [{ name: 'busybox', versionInfo: '1.36' }] };
  const cyclonedx = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'busybox' }] };
  const envelope = { payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(STATEMENT)).toString('base64'), signatures: [{ sig: 'c2ln' }] };
  return [
    {
      label: 'Signature (cosign)', kind: 'signature',
      built: buildArtifact({
        subject, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', annotations: { [CREATED]: '2025-01-01T00:00:01Z' },
        blobs: [blobOf(JSON.stringify({ critical: { image: { 'docker-manifest-digest': subject.digest } } }), 'application/vnd.dev.cosign.simplesigning.v1+json', { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' })],
      }),
    },
    {
      label: 'Signature (Notation)', kind: 'signature',
      built: buildArtifact({
        subject, artifactType: 'application/vnd.cncf.notary.signature', annotations: { [CREATED]: '2025-01-01T00:00:02Z', 'io.cncf.notary.x509chain.thumbprint#S256': '["ab"]' },
        blobs: [blobOf('{"payload":"e30","protected":"e30","header":{},"signature":"c2ln"}', 'application/jose+json')],
      }),
    },
    { label: 'SBOM (SPDX)', kind: 'sbom', built: buildArtifact({ subject, artifactType: 'application/spdx+json', annotations: { [CREATED]: '2025-01-01T00:00:03Z' }, blobs: [blobOf(JSON.stringify(spdx), 'application/spdx+json')] }) },
    { label: 'SBOM (CycloneDX)', kind: 'sbom', built: buildArtifact({ subject, artifactType: 'application/vnd.cyclonedx+json', annotations: { [CREATED]: '2025-01-01T00:00:04Z' }, blobs: [blobOf(JSON.stringify(cyclonedx), 'application/vnd.cyclonedx+json')] }) },
    {
      label: 'Provenance (SLSA)', kind: 'provenance',
      built: buildArtifact({ subject, artifactType: 'application/vnd.dsse.envelope.v1+json', annotations: { [CREATED]: '2025-01-01T00:00:05Z' }, blobs: [blobOf(JSON.stringify(envelope), 'application/vnd.dsse.envelope.v1+json', { predicateType: 'https://slsa.dev/provenance/v1' })] }),
    },
    { label: 'application/vnd.example.thing.v1', kind: 'other', built: buildArtifact({ subject, artifactType: 'application/vnd.example.thing.v1' }) },
  ];
}

for (const target of TARGETS) {
  describe(`artifacts under a digest on ${target.name} (${target.referrersApi ? 'referrers API' : 'tag scheme'})`, function () {
    const registry = useRegistry(target);
    let client: RegistryClient;
    let subject: BuiltImage;
    let attached: ReturnType<typeof artifactsFor>;
    before(async function () {
      client = new RegistryClient();
      subject = buildImage();
      await pushBuilt(registry().url, 'art/app', subject, 'v1');
      attached = artifactsFor(subject.descriptor);
      for (const a of attached) await pushBuilt(registry().url, 'art/app', a.built);
      if (!target.referrersApi) {
        // What oras, notation and cosign do where the registry has no referrers API: keep the list under the fallback tag.
        const manifests = attached.map((a) => ({ ...a.built.descriptor, artifactType: a.built.manifest.artifactType as string, ...(a.built.manifest.annotations ? { annotations: a.built.manifest.annotations } : {}) }));
        const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
        const digest = digestOf(bytes);
        await pushManifest(registry().url, 'art/app', fallbackTags(subject.digest).referrers, { bytes, digest, mediaType: MediaType.ociIndex, descriptor: { mediaType: MediaType.ociIndex, digest, size: bytes.length } });
      }
    });
    after(() => client?.close());

    it('lists each artifact with its kind named plainly, its size and creation time, newest first', async function () {
      const listing = await listArtifacts(client.registry(registry().host), 'art/app', subject.digest);
      assert.equal(listing.referrers, target.referrersApi ? 'api' : 'tag');
      const expected = [...attached].reverse().filter((a) => a.built.manifest.annotations?.[CREATED]);
      assert.deepEqual(listing.artifacts.slice(0, expected.length).map((r) => [r.digest, r.label, r.kind, r.created]),
        expected.map((a) => [a.built.digest, a.label, a.kind, a.built.manifest.annotations?.[CREATED]]));
      const other = listing.artifacts.find((r) => r.kind === 'other');
      assert.equal(other?.label, 'application/vnd.example.thing.v1');
      for (const a of attached) {
        const row = listing.artifacts.find((r) => r.digest === a.built.digest);
        const size = a.built.bytes.length + a.built.config.bytes.length + a.built.layers.reduce((n, l) => n + l.bytes.length, 0);
        assert.equal(row?.sizeBytes, size, a.label);
      }
    });

    it('opens an SBOM and the in-toto statement inside a DSSE envelope as documents', async function () {
      const reg = client.registry(registry().host);
      const sbom = attached.find((a) => a.label === 'SBOM (SPDX)') as (typeof attached)[number];
      const [payload] = await readArtifactPayloads(reg, 'art/app', sbom.built.digest);
      assert.equal(payload?.language, 'json');
      assert.equal(JSON.parse(payload?.text ?? '').spdxVersion, 'SPDX-2.3');
      const provenance = attached.find((a) => a.kind === 'provenance') as (typeof attached)[number];
      const [envelope] = await readArtifactPayloads(reg, 'art/app', provenance.built.digest);
      assert.deepEqual(JSON.parse(envelope?.statement ?? ''), STATEMENT);
    });

    it('finds cosign signatures kept under the .sig tag', async function () {
      const other = buildImage();
      await pushBuilt(registry().url, 'art/cosign', other, 'v1');
      const sig = buildImage({
        config: blobOf('{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig),
        layers: [{ ...blobOf('{"critical":{}}', 'application/vnd.dev.cosign.simplesigning.v1+json', { 'dev.cosignproject.cosign/signature': 'MEUC' }), diffId: '' }],
      });
      const tags = fallbackTags(other.digest);
      await pushBuilt(registry().url, 'art/cosign', sig, tags.cosign[0]?.tag);
      const listing = await listArtifacts(client.registry(registry().host), 'art/cosign', other.digest);
      assert.deepEqual(listing.artifacts.map((r) => [r.digest, r.label, r.source, r.tag]), [[sig.digest, 'Signature (cosign)', 'cosign-tag', `${tags.referrers}.sig`]]);
    });

    it('lists nothing, without an error, for a digest nothing refers to', async function () {
      const lonely = buildImage();
      await pushBuilt(registry().url, 'art/none', lonely, 'v1');
      const listing = await listArtifacts(client.registry(registry().host), 'art/none', lonely.digest);
      assert.deepEqual(listing.artifacts, []);
    });
  });
}
