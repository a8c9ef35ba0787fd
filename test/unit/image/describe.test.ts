import { strict as assert } from 'node:assert';
import { classifyArtifact, type ArtifactKind } from '../../../src/image/artifacts';
import { tidyCommand } from '../../../src/image/summary';

describe('naming artifacts', () => {
  const table: Array<{ name: string; artifactType?: string; annotations?: Record<string, string>; blobs?: Array<{ mediaType: string; annotations?: Record<string, string> }>; expected: [ArtifactKind, string] }> = [
    { name: 'a cosign signature', artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', expected: ['signature', 'Signature (cosign)'] },
    { name: 'a Notation signature', artifactType: 'application/vnd.cncf.notary.signature', expected: ['signature', 'Signature (Notation)'] },
    { name: 'a Sigstore bundle', artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', expected: ['signature', 'Signature (Sigstore bundle)'] },
    { name: 'an SPDX SBOM', artifactType: 'application/spdx+json', expected: ['sbom', 'SBOM (SPDX)'] },
    { name: 'a CycloneDX SBOM in XML', artifactType: 'application/vnd.cyclonedx+xml', expected: ['sbom', 'SBOM (CycloneDX)'] },
    { name: 'an in-toto attestation whose predicate is SLSA provenance', artifactType: 'application/vnd.in-toto+json', annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' }, expected: ['provenance', 'Provenance (SLSA)'] },
    { name: 'an in-toto attestation whose predicate is an SBOM', artifactType: 'application/vnd.in-toto+json', annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' }, expected: ['sbom', 'SBOM (SPDX)'] },
    { name: 'a plain in-toto attestation', artifactType: 'application/vnd.in-toto+json', expected: ['attestation', 'Attestation (in-toto)'] },
    { name: 'a legacy cosign signature known by its layer annotation', blobs: [{ mediaType: 'application/octet-stream', annotations: { 'dev.cosignproject.cosign/signature': 'x' } }], expected: ['signature', 'Signature (cosign)'] },
    { name: 'a DSSE envelope layer with a predicate annotation', blobs: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', annotations: { predicateType: 'https://slsa.dev/provenance/v1' } }], expected: ['provenance', 'Provenance (SLSA)'] },
    { name: 'an unknown type, shown as it is', artifactType: 'application/vnd.example.thing', expected: ['other', 'application/vnd.example.thing'] },
  ];
  for (const t of table) {
    it(`names ${t.name} "${t.expected[1]}"`, () => {
      const c = classifyArtifact(t.artifactType, t.annotations, (t.blobs ?? []).map((b) => ({ ...b, digest: 'sha256:0', size: 0 })));
      assert.deepEqual([c.kind, c.label], t.expected);
    });
  }
});

describe('history commands', () => {
  const table: Array<[string, string]> = [
    ['/bin/sh -c #(nop)  CMD ["sh"]', 'CMD ["sh"]'],
    ['/bin/sh -c #(nop) ADD file:abc in / ', 'ADD file:abc in /'],
    ['/bin/sh -c apk add curl', 'RUN /bin/sh -c apk add curl'],
    ['RUN /bin/sh -c make # buildkit', 'RUN /bin/sh -c make'],
    ['COPY app /app # buildkit', 'COPY app /app'],
  ];
  for (const [input, expected] of table) it(`shows ${JSON.stringify(input)} as ${JSON.stringify(expected)}`, () => assert.equal(tidyCommand(input), expected));
});
