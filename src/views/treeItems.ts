/**
 * The one mapping from a tree element to what VS Code shows, as plain data; the provider
 * turns it into a `vscode.TreeItem`. Labels here are what users (and UI tests) see.
 */
import type { ArtifactKind } from '../image/artifacts';
import { isIndexMediaType } from '../oci/mediaTypes';
import { contextValue } from './contextValue';
import { formatAge, formatBytes, shortDigest } from './format';
import { nodeId, type ManifestNode, type TreeNode } from './nodes';

export type Collapsible = 'none' | 'collapsed' | 'expanded';

const ARTIFACT_ICONS: Record<ArtifactKind, string> = { signature: 'verified', sbom: 'checklist', attestation: 'law', provenance: 'law', other: 'file' };

/** `2 signatures, 1 SBOM`: what the group holds, by kind. */
export function describeReferrers(artifacts: ReadonlyArray<{ kind: ArtifactKind }>): string {
  const names: Record<ArtifactKind, [string, string]> = {
    signature: ['signature', 'signatures'], sbom: ['SBOM', 'SBOMs'], attestation: ['attestation', 'attestations'], provenance: ['provenance', 'provenance'], other: ['other', 'other'],
  };
  const counts = new Map<ArtifactKind, number>();
  for (const a of artifacts) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${names[k][n === 1 ? 0 : 1]}`).join(', ');
}

/** `index · 3 platforms`, or an image's size (config + layers; the manifest's own bytes when it has none). */
function manifestDescription(node: ManifestNode, index: boolean): string {
  if (index) {
    const n = node.platforms?.length ?? 0;
    return `index · ${n} platform${n === 1 ? '' : 's'}`;
  }
  return formatBytes(node.totalSize ?? node.size);
}

function sizeLine(imageBytes: number | undefined, manifestBytes: number): string {
  return imageBytes !== undefined
    ? `Image size (config + layers): ${formatBytes(imageBytes)} (${imageBytes.toLocaleString('en-US')} bytes)`
    : `Manifest: ${formatBytes(manifestBytes)}`;
}

export interface TreeItemSpec {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  collapsible: Collapsible;
  contextValue: string;
  /** A codicon id (`database`, `tag`…), optionally with a theme colour id. */
  icon?: { id: string; color?: string };
  command?: { command: string; title: string; arguments: unknown[] };
}

export function treeItemSpec(node: TreeNode, nowMs: number): TreeItemSpec {
  const id = nodeId(node);
  switch (node.kind) {
    case 'registry': {
      const r = node.registry;
      const local = node.local;
      const state = local?.state;
      const description = local
        ? state === 'running' ? `running on :${local.port ?? '?'}` : state === 'failed' ? (local.crashed ? 'stopped unexpectedly' : 'failed to start') : (state ?? 'stopped')
        : [r.username, r.tls?.skipVerify ? 'certificate not verified' : undefined, node.noCatalog ? 'no catalog' : undefined, node.filter ? `filter: ${node.filter}` : undefined].filter(Boolean).join(' · ');
      return {
        id,
        label: r.label,
        description: local && node.filter ? `${description} · filter: ${node.filter}` : description,
        tooltip: `${r.server}${local?.message ? `\n${local.message}` : ''}${r.tls?.skipVerify ? '\nCertificate verification is skipped for this registry (Configure TLS… to trust its CA instead).' : ''}`,
        collapsible: 'collapsed',
        contextValue: contextValue('registry', {
          local: !!local,
          remote: !local,
          [state ?? 'connected']: true,
          nocatalog: !!node.noCatalog,
          filtered: !!node.filter,
          insecure: !!r.tls?.skipVerify,
        }),
        icon: local ? { id: 'server-environment', color: state === 'running' ? 'charts.green' : state === 'failed' ? 'errorForeground' : undefined } : r.tls?.skipVerify ? { id: 'unlock', color: 'list.warningForeground' } : { id: 'database' },
      };
    }
    case 'repository':
      return {
        id,
        label: node.name,
        ...(node.remembered || node.tagFilter ? { description: [node.remembered ? 'added by name' : undefined, node.tagFilter ? `filter: ${node.tagFilter}` : undefined].filter(Boolean).join(' · ') } : {}),
        collapsible: 'collapsed',
        contextValue: contextValue('repository', { remembered: !!node.remembered }),
        icon: { id: 'repo' },
      };
    case 'tag':
      return {
        id,
        label: node.tag,
        ...(node.createdMs !== undefined ? { description: formatAge(node.createdMs, nowMs) } : {}),
        collapsible: 'collapsed',
        contextValue: contextValue('tag'),
        icon: { id: 'tag' },
      };
    case 'manifest': {
      const index = isIndexMediaType(node.mediaType) || node.platforms !== undefined;
      return {
        id,
        label: shortDigest(node.digest),
        description: manifestDescription(node, index),
        tooltip: [node.digest, node.mediaType, index ? 'Each platform row shows its image size (config + layers).' : sizeLine(node.totalSize, node.size)].join('\n'),
        // Every manifest can have referrers (signatures, SBOMs), listed when it is expanded.
        collapsible: 'collapsed',
        contextValue: contextValue('manifest', { index, image: !index }),
        icon: { id: index ? 'layers' : 'file-binary' },
      };
    }
    case 'platform':
      return {
        id,
        label: node.platform,
        description: node.imageSize !== undefined ? `${shortDigest(node.digest)} · ${formatBytes(node.imageSize)}` : shortDigest(node.digest),
        tooltip: [node.digest, node.mediaType, sizeLine(node.imageSize, node.size)].join('\n'),
        collapsible: 'none',
        contextValue: contextValue('platform'),
        icon: { id: 'vm' },
      };
    case 'referrers':
      return {
        id,
        label: 'Referrers',
        description: describeReferrers(node.artifacts),
        tooltip: 'Signatures, SBOMs, attestations and other artifacts that refer to this manifest',
        collapsible: 'collapsed',
        contextValue: contextValue('referrers'),
        icon: { id: 'references' },
      };
    case 'artifact': {
      const a = node.artifact;
      return {
        id,
        label: a.label,
        description: [formatBytes(a.sizeBytes), a.created && Number.isFinite(Date.parse(a.created)) ? formatAge(Date.parse(a.created), nowMs) : undefined].filter(Boolean).join(' · '),
        tooltip: [a.digest, a.artifactType, a.source === 'cosign-tag' ? `tag ${a.tag ?? ''}` : undefined, a.created].filter(Boolean).join('\n'),
        collapsible: 'none',
        contextValue: contextValue('artifact', { [a.kind]: true }),
        icon: { id: ARTIFACT_ICONS[a.kind] },
        command: { command: 'berth.artifact.open', title: 'Open Artifact', arguments: [node] },
      };
    }
    case 'loadMore':
      return {
        id,
        label: 'Load more…',
        description: node.total !== undefined ? `${node.loaded.toLocaleString('en-US')} of ${node.total.toLocaleString('en-US')} shown` : `${node.loaded} shown`,
        collapsible: 'none',
        contextValue: contextValue('loadMore'),
        icon: { id: 'ellipsis' },
        command: { command: 'berth.registries.loadMore', title: 'Load more', arguments: [node] },
      };
    case 'message':
      return {
        id,
        label: node.message,
        ...(node.detail ? { tooltip: node.detail } : {}),
        collapsible: 'none',
        contextValue: contextValue('message', { [node.severity]: true }),
        icon: node.severity === 'error' ? { id: 'error', color: 'errorForeground' } : node.severity === 'action' ? { id: 'add' } : { id: 'info' },
        ...(node.action ? { command: { command: node.action.command, title: node.action.title, arguments: [node] } } : {}),
      };
    case 'localImage': {
      const img = node.image;
      return {
        id,
        label: img.reference ?? `<none> ${shortDigest(img.id)}`,
        description: `${formatBytes(img.sizeBytes)} · ${formatAge(img.createdMs, nowMs)}`,
        tooltip: `${img.id}\n${img.repoTags.join('\n')}`,
        collapsible: 'none',
        contextValue: contextValue('localImage', { tagged: !!img.reference, untagged: !img.reference }),
        icon: { id: 'package' },
      };
    }
  }
}
