import * as assert from 'node:assert/strict';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import { RegistryError } from '../../../src/server/errors';
import { JsonDepthGuard, MAX_MANIFEST_DEPTH, manifestOwnType, parseManifest } from '../../../src/server/manifest';
import { manifestReferences } from '../../../src/server/gc';

const d = (s: string): string => digestOf(s);
const desc = (mediaType: string, seed: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ mediaType, digest: d(seed), size: seed.length, ...extra });
const image = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  schemaVersion: 2, mediaType: MediaType.ociManifest,
  config: desc(MediaType.ociConfig, 'config'), layers: [desc(MediaType.ociLayerGzip, 'layer')], ...extra,
});
const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function problem(v: unknown, contentType?: string): string | undefined {
  try {
    parseManifest(typeof v === 'string' ? Buffer.from(v) : bytes(v), contentType);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof RegistryError);
    return `${e.status} ${e.code}`;
  }
}

describe('server manifests: parsing pushed manifests', () => {
  const table: Array<{ what: string; input: unknown; contentType?: string; expected?: string }> = [
    { what: 'an OCI image manifest', input: image(), contentType: MediaType.ociManifest },
    { what: 'a Docker schema 2 manifest', input: image({ mediaType: MediaType.dockerManifest }), contentType: MediaType.dockerManifest },
    { what: 'an OCI index', input: { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [desc(MediaType.ociManifest, 'm')] } },
    { what: 'a Docker manifest list', input: { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [] } },
    { what: 'a manifest without mediaType (typed by Content-Type)', input: image({ mediaType: undefined }), contentType: MediaType.ociManifest },
    { what: 'a Content-Type with parameters', input: image(), contentType: `${MediaType.ociManifest}; charset=utf-8` },
    { what: 'not JSON', input: '{nope', expected: '400 MANIFEST_INVALID' },
    { what: 'a JSON list', input: [], expected: '400 MANIFEST_INVALID' },
    { what: 'schema 1', input: { schemaVersion: 1, fsLayers: [] }, expected: '400 MANIFEST_INVALID' },
    { what: 'a mediaType that contradicts Content-Type', input: image(), contentType: MediaType.dockerManifest, expected: '400 MANIFEST_INVALID' },
    { what: 'an unknown manifest type', input: image({ mediaType: 'application/x-unknown' }), expected: '400 MANIFEST_INVALID' },
    { what: 'a layer with a malformed digest', input: image({ layers: [{ mediaType: MediaType.ociLayerGzip, digest: 'sha256:xyz', size: 1 }] }), expected: '400 MANIFEST_INVALID' },
    { what: 'a layer with a negative size', input: image({ layers: [desc(MediaType.ociLayerGzip, 'l', { size: -1 })] }), expected: '400 MANIFEST_INVALID' },
    { what: 'a missing config', input: image({ config: undefined }), expected: '400 MANIFEST_INVALID' },
    { what: 'an index without manifests', input: { schemaVersion: 2, mediaType: MediaType.ociIndex }, expected: '400 MANIFEST_INVALID' },
    { what: 'non-string annotations', input: image({ annotations: { a: 1 } }), expected: '400 MANIFEST_INVALID' },
  ];
  for (const t of table) {
    it(`${t.expected ? `rejects ${t.what} with ${t.expected}` : `accepts ${t.what}`}`, () => assert.equal(problem(t.input, t.contentType), t.expected));
  }

  it('lists the blobs an image needs, leaving out foreign layers with urls', () => {
    const m = parseManifest(bytes(image({ layers: [desc(MediaType.ociLayerGzip, 'a'), desc(MediaType.dockerForeignLayerGzip, 'b', { urls: ['https://example.invalid/b'] })] })), undefined);
    assert.deepEqual(m.blobs, [d('config'), d('a')]);
    assert.deepEqual(m.manifests, []);
  });

  it('lists the manifests an index needs', () => {
    const m = parseManifest(bytes({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [desc(MediaType.ociManifest, 'x'), desc(MediaType.ociManifest, 'y')] }), undefined);
    assert.deepEqual(m.manifests, [d('x'), d('y')]);
    assert.equal(m.kind, 'index');
  });

  const artifactTypes: Array<{ what: string; input: Record<string, unknown>; expected: string | undefined }> = [
    { what: "the manifest's artifactType", input: image({ artifactType: 'application/vnd.example.sbom' }), expected: 'application/vnd.example.sbom' },
    { what: "the config's media type when artifactType is absent", input: image(), expected: MediaType.ociConfig },
    { what: 'nothing for an index without artifactType', input: { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }, expected: undefined },
  ];
  for (const t of artifactTypes) {
    it(`gives referrers ${t.what}`, () => assert.equal(parseManifest(bytes(t.input), undefined).artifactType, t.expected));
  }

  it('reads the subject of a referrer', () => {
    const m = parseManifest(bytes(image({ subject: desc(MediaType.ociManifest, 'subject') })), undefined);
    assert.equal(m.subject?.digest, d('subject'));
  });

  const own: Array<{ what: string; input: string; expected: { field: string | undefined; shape: string } }> = [
    { what: 'its own mediaType field', input: JSON.stringify(image()), expected: { field: MediaType.ociManifest, shape: MediaType.ociManifest } },
    { what: 'no field and an index shape', input: JSON.stringify({ schemaVersion: 2, manifests: [] }), expected: { field: undefined, shape: MediaType.ociIndex } },
    { what: 'no field and an image shape', input: JSON.stringify(image({ mediaType: undefined })), expected: { field: undefined, shape: MediaType.ociManifest } },
    { what: 'octet-stream when it is not JSON', input: 'garbage', expected: { field: undefined, shape: 'application/octet-stream' } },
  ];
  for (const t of own) {
    it(`reads the type of a stored manifest: ${t.what}`, () => assert.deepEqual(manifestOwnType(Buffer.from(t.input)), t.expected));
  }
});

describe('server manifests: nesting depth', () => {
  const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const table: Array<{ what: string; chunks: string[]; maxDepth: number; ok: boolean; maxSeen: number }> = [
    { what: 'nesting up to the limit', chunks: [nested(3)], maxDepth: 3, ok: true, maxSeen: 3 },
    { what: 'nesting past the limit', chunks: [nested(4)], maxDepth: 3, ok: false, maxSeen: 4 },
    { what: 'depth carried across chunks, stopping at the first level too deep', chunks: ['{"a":[', '[{"b":', '[1]}]]}'], maxDepth: 3, ok: false, maxSeen: 4 },
    { what: 'brackets inside strings', chunks: ['{"a":"[[[[{{{{"}'], maxDepth: 1, ok: true, maxSeen: 1 },
    { what: 'an escaped quote inside a string, split across chunks', chunks: ['["x\\', '"[[[["]'], maxDepth: 1, ok: true, maxSeen: 1 },
    { what: 'siblings that never nest', chunks: [`[${Array(100).fill('[]').join(',')}]`], maxDepth: 2, ok: true, maxSeen: 2 },
  ];
  for (const t of table) {
    it(`follows ${t.what}`, () => {
      const guard = new JsonDepthGuard(t.maxDepth);
      for (const c of t.chunks) guard.feed(Buffer.from(c));
      assert.equal(!guard.exceeded, t.ok);
      assert.equal(guard.maxSeen, t.maxSeen);
    });
  }

  it('refuses a manifest nested deeper than the limit with 400 MANIFEST_INVALID before parsing it', () => {
    const bomb = `{"schemaVersion":2,"x":${nested(MAX_MANIFEST_DEPTH)}}`;
    assert.equal(problem(bomb), '400 MANIFEST_INVALID');
    assert.throws(() => parseManifest(Buffer.from(bomb), undefined), /deeper than 64 levels/);
    assert.equal(problem(image({ x: JSON.parse(nested(MAX_MANIFEST_DEPTH - 1)) as unknown })), undefined);
  });
});

describe('server gc: references of stored manifests', () => {
  it('follows config, layers, index children, subject and schema 1 layers', () => {
    assert.deepEqual(manifestReferences(bytes(image({ subject: desc(MediaType.ociManifest, 's') }))), { children: [], blobs: [d('config'), d('layer')], subject: d('s') });
    assert.deepEqual(manifestReferences(bytes({ schemaVersion: 2, manifests: [desc(MediaType.ociManifest, 'x')] })).children, [d('x')]);
    assert.deepEqual(manifestReferences(bytes({ schemaVersion: 1, fsLayers: [{ blobSum: d('old') }] })).blobs, [d('old')]);
    assert.deepEqual(manifestReferences(Buffer.from('not json')), { children: [], blobs: [] });
  });
});
