/** What the layout tests write into a registry root and how they read it back from another registry. */
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildahScratch, containerTools, expectedScratchOutput, skopeoDigest, type ContainerTools } from '../../support/clients';
import {
  buildArtifact, buildImage, buildIndex, deleteManifest, getReferrers, headManifest, listTags, MULTI_PLATFORMS, pushBuilt, randomLayer, retag,
} from '../../support/ociImage';
import type { RegistryTarget, RunningRegistry } from '../clients/targets';

/** The image `populate` copies: build it as `localhost/layout-src:v1` with `buildahScratch` first. */
export const SOURCE_IMAGE = 'localhost/layout-src:v1';

/** Mocha hooks that give a suite private tools holding SOURCE_IMAGE; call the result inside tests. */
export function toolsWithSourceImage(): () => ContainerTools {
  let tools: ContainerTools | undefined;
  before(async function () {
    tools = containerTools();
    await buildahScratch(tools, SOURCE_IMAGE, IMAGE);
  });
  after(async function () {
    await tools?.cleanup();
  });
  return () => {
    if (!tools) throw new Error('the before hook that builds the source image did not run');
    return tools;
  };
}
export const IMAGE = { layers: 2, label: 'layout-swap' };
const SBOM = 'application/vnd.example.sbom.v1';

export interface Written {
  /** `repo:tag` → manifest digest */
  tags: Map<string, string>;
  /** References that were deleted and must stay gone. */
  gone: { repo: string; reference: string }[];
  /** Subject digest → referrer digests, per repository. */
  referrers: { repo: string; subject: string; digests: string[] }[];
  /** Blobs only deleted manifests referenced: a garbage collector may remove exactly these. */
  orphans: string[];
}

/** Fills a registry with real clients: tags, nested repositories, an index, a referrer and deletions. */
export async function populate(registry: RunningRegistry, tools: ContainerTools, deletesTags: boolean): Promise<Written> {
  const w: Written = { tags: new Map(), gone: [], referrers: [], orphans: [] };
  const copyTo = async (ref: string): Promise<void> => {
    await tools.skopeo(['copy', '--dest-tls-verify=false', `${tools.storageTransport}${SOURCE_IMAGE}`, `docker://${registry.host}/${ref}`]);
    w.tags.set(ref, await skopeoDigest(tools, `${registry.host}/${ref}`));
  };
  await copyTo('layout/app:v1');
  await copyTo('layout/app:v2');
  await tools.podman(['push', '--tls-verify=false', '--format', 'v2s2', SOURCE_IMAGE, `docker://${registry.host}/layout/nested/deep/app:latest`]);
  w.tags.set('layout/nested/deep/app:latest', await skopeoDigest(tools, `${registry.host}/layout/nested/deep/app:latest`));

  const index = buildIndex({
    images: MULTI_PLATFORMS.map((platform) => buildImage({ platform, layers: [randomLayer(4096, { gzip: true })] })),
  });
  await pushBuilt(registry.url, 'layout/multi', index, 'v1');
  w.tags.set('layout/multi:v1', index.digest);
  const sbom = buildArtifact({ subject: index.descriptor, artifactType: SBOM });
  await pushBuilt(registry.url, 'layout/multi', sbom);
  w.referrers.push({ repo: 'layout/multi', subject: index.digest, digests: [sbom.digest] });

  // Deleting a manifest by digest removes it and every tag on it.
  const doomed = buildImage({ layers: [randomLayer(1024, { gzip: true })] });
  await pushBuilt(registry.url, 'layout/app', doomed, 'doomed');
  assert.equal(await deleteManifest(registry.url, 'layout/app', doomed.digest), 202);
  w.gone.push({ repo: 'layout/app', reference: 'doomed' }, { repo: 'layout/app', reference: doomed.digest });
  w.orphans.push(doomed.digest, doomed.config.descriptor.digest, ...doomed.layers.map((l) => l.descriptor.digest));

  if (deletesTags) {
    await retag(registry.url, 'layout/app', 'v1', 'untag-me');
    assert.equal(await deleteManifest(registry.url, 'layout/app', 'untag-me'), 202);
    w.gone.push({ repo: 'layout/app', reference: 'untag-me' });
  }
  return w;
}

/** Reads everything `populate` wrote back from `registry`: digests, full pulls, listings, deletions, referrers, a run. */
export async function verify(registry: RunningRegistry, target: RegistryTarget, tools: ContainerTools, w: Written): Promise<void> {
  const expectedTags = new Map<string, string[]>();
  for (const [ref, digest] of w.tags) {
    assert.equal(await skopeoDigest(tools, `${registry.host}/${ref}`), digest, `digest of ${ref}`);
    const [repo, tag] = ref.split(':') as [string, string];
    expectedTags.set(repo, [...(expectedTags.get(repo) ?? []), tag].sort());
    // A full pull: skopeo fetches every blob and checks each digest.
    const into = join(tools.dir, `pulled-${registry.port}`, repo);
    mkdirSync(into, { recursive: true });
    await tools.skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${registry.host}/${ref}`, `oci:${into}:${tag}`]);
  }
  for (const [repo, tags] of expectedTags) assert.deepEqual((await listTags(registry.url, repo)).sort(), tags, `tags of ${repo}`);
  const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
  assert.deepEqual(catalog.repositories, [...expectedTags.keys()].sort());
  for (const g of w.gone) assert.equal((await headManifest(registry.url, g.repo, g.reference)).status, 404, `${g.repo}@${g.reference} should stay deleted`);
  if (target.referrersApi) {
    for (const r of w.referrers) {
      const got = await getReferrers(registry.url, r.repo, r.subject);
      assert.deepEqual(got.index?.manifests.map((d) => d.digest).sort(), [...r.digests].sort(), `referrers of ${r.subject}`);
    }
  }

  const puller = containerTools();
  try {
    const ref = `${registry.host}/layout/nested/deep/app:latest`;
    await puller.podman(['pull', '--tls-verify=false', ref]);
    assert.equal((await puller.podman(['run', '--rm', '--network', 'none', ref])).stdout, expectedScratchOutput(IMAGE));
  } finally {
    await puller.cleanup();
  }
}

