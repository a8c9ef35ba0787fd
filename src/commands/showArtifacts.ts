import { listArtifacts, readArtifactPayloads, type ArtifactRow } from '../image/artifacts';
import { formatBytes } from '../oci/format';
import type { CommandDeps, CommandSpec } from './command';
import { imageAt, type ImageAt } from './imageSession';
import { required, type PickItem } from './ui';

export function artifactItem(a: ArtifactRow): PickItem<ArtifactRow> {
  const when = a.created ? ` · ${a.created}` : '';
  const where = a.source === 'cosign-tag' ? ` · tag ${a.tag ?? ''}` : '';
  return { label: a.label, description: `${formatBytes(a.sizeBytes)}${when}`, detail: `${a.digest}${a.artifactType && a.artifactType !== a.label ? ` · ${a.artifactType}` : ''}${where}`, value: a };
}

/**
 * Signatures, SBOMs, attestations and other artifacts that refer to an image: pick one to open its
 * manifest and, for JSON payloads (SBOMs, in-toto statements), the payload itself.
 */
export const showArtifacts: CommandSpec = {
  id: 'berth.tag.showArtifacts',
  async run(deps, node) {
    const at = await imageAt(deps, node, 'Show Signatures, SBOMs and Artifacts');
    const listing = await deps.ui.withProgress(`Looking for artifacts of ${at.label}`, true, async (_report, signal) => {
      // A tag's artifacts hang off the manifest it names (the index for a multi-platform image); a platform row's off its own.
      const digest = at.target.reference.includes(':') ? at.target.reference : (await at.registry.headManifest(at.target.repository, at.target.reference, { signal })).digest;
      return listArtifacts(at.registry, at.target.repository, digest, { signal });
    });
    if (!listing.artifacts.length) {
      await deps.ui.info(`Nothing refers to ${at.label}: no signatures, SBOMs or attestations${listing.referrers === 'none' ? ' (the registry has no referrers API and no fallback tag exists)' : ''}.`);
      return;
    }
    const chosen = await required(deps.ui.pick(listing.artifacts.map(artifactItem), { title: `${listing.artifacts.length} artifacts of ${at.label}`, placeHolder: 'Open an artifact' }));
    await openArtifact(deps, at, chosen);
  },
};

/** Opens the artifact's manifest and its readable payloads as read-only documents. */
export async function openArtifact(deps: CommandDeps, at: Pick<ImageAt, 'entry' | 'registry' | 'target'>, a: ArtifactRow): Promise<void> {
  const base = `/artifact/${at.entry.server}/${at.target.repository}/${a.digest.replace(':', '-')}`;
  const [manifest, payloads] = await deps.ui.withProgress(`Reading ${a.label}`, true, async (_report, signal) => Promise.all([
    at.registry.getManifest(at.target.repository, a.digest, { signal }),
    readArtifactPayloads(at.registry, at.target.repository, a.digest, { signal }),
  ]));
  await deps.ui.openDocument(deps.docs.put(`${base}/manifest.json`, `${JSON.stringify(manifest.manifest, null, 2)}\n`), 'json');
  for (const p of payloads) {
    const name = p.blob.digest.replace(':', '-');
    await deps.ui.openDocument(deps.docs.put(`${base}/${name}.${p.language === 'json' ? 'json' : 'txt'}`, `${p.text}\n`), p.language);
    if (p.statement !== undefined) await deps.ui.openDocument(deps.docs.put(`${base}/${name}-statement.json`, `${p.statement}\n`), 'json');
  }
}
