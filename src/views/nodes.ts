/**
 * Tree elements are plain data: a `kind`, a `parent`, and what the kind needs. One
 * mapping (treeItems.ts) turns each kind into what VS Code shows.
 */
import type { LocalStatus } from '../app/ports';
import type { RegistryEntry } from '../app/registryEntry';
import type { ArtifactRow } from '../image/artifacts';


export interface RegistryNode {
  kind: 'registry';
  parent?: undefined;
  registry: RegistryEntry;
  /** Present only on the embedded registry's node. */
  local?: LocalStatus;
  /** Set once we know the registry offers no catalog. */
  noCatalog?: boolean;
  filter?: string;
}

export interface RepositoryNode {
  kind: 'repository';
  parent: RegistryNode;
  name: string;
  /** Added by hand because the registry has no catalog. */
  remembered?: boolean;
  /** Only the tags matching this are shown (Filter Tags…). */
  tagFilter?: string;
}

export interface TagNode {
  kind: 'tag';
  parent: RepositoryNode;
  tag: string;
  createdMs?: number;
}

export interface PlatformEntry {
  platform: string;
  digest: string;
  mediaType: string;
  /** The platform manifest's own bytes, as the index lists it. */
  size: number;
  /** Config plus layers of the platform's image, once its manifest has been read. */
  imageSize?: number;
}

export interface ManifestNode {
  kind: 'manifest';
  parent: TagNode;
  digest: string;
  mediaType: string;
  /** The manifest's own bytes. */
  size: number;
  /** Config plus layers, for an image manifest (what a pull downloads, compressed). */
  totalSize?: number;
  /** Present for an index: one entry per manifest it lists. */
  platforms?: PlatformEntry[];
}

export interface PlatformNode extends PlatformEntry {
  kind: 'platform';
  parent: ManifestNode;
}

/** The artifacts (signatures, SBOMs, attestations…) that refer to a manifest: the Referrers group. */
export interface ReferrersNode {
  kind: 'referrers';
  parent: ManifestNode;
  artifacts: ArtifactRow[];
}

export interface ArtifactNode {
  kind: 'artifact';
  parent: ReferrersNode;
  artifact: ArtifactRow;
}

export interface LoadMoreNode {
  kind: 'loadMore';
  parent: RegistryNode | RepositoryNode;
  loaded: number;
  /** How many there are in all, where the whole list is known (tags). */
  total?: number;
}

/** A command offered as the fix or the next step. The command receives the message node. */
export interface NodeAction {
  title: string;
  command: string;
}

export interface MessageNode {
  kind: 'message';
  parent: RegistryNode | RepositoryNode | TagNode | ManifestNode | ReferrersNode;
  severity: 'error' | 'info' | 'action';
  message: string;
  detail?: string;
  action?: NodeAction;
}

export interface LocalImage {
  id: string;
  /** `repo:tag`, or undefined for an untagged image. */
  reference?: string;
  repoTags: string[];
  sizeBytes: number;
  createdMs: number;
}

export interface LocalImageNode {
  kind: 'localImage';
  parent?: undefined;
  image: LocalImage;
}

/** The rows an image command works on: a tag, a manifest, or one platform of an index. */
export type ImageNode = TagNode | ManifestNode | PlatformNode;

export type RegistryTreeNode = RegistryNode | RepositoryNode | TagNode | ManifestNode | PlatformNode | ReferrersNode | ArtifactNode | LoadMoreNode | MessageNode;
export type TreeNode = RegistryTreeNode | LocalImageNode;

export const isRegistryNode = (n: unknown): n is RegistryNode => isNode(n) && n.kind === 'registry';
export const isRepositoryNode = (n: unknown): n is RepositoryNode => isNode(n) && n.kind === 'repository';
export const isTagNode = (n: unknown): n is TagNode => isNode(n) && n.kind === 'tag';
export const isManifestNode = (n: unknown): n is ManifestNode => isNode(n) && n.kind === 'manifest';
export const isPlatformNode = (n: unknown): n is PlatformNode => isNode(n) && n.kind === 'platform';
export const isMessageNode = (n: unknown): n is MessageNode => isNode(n) && n.kind === 'message';
export const isLocalImageNode = (n: unknown): n is LocalImageNode => isNode(n) && n.kind === 'localImage';

function isNode(n: unknown): n is TreeNode {
  return typeof n === 'object' && n !== null && typeof (n as { kind?: unknown }).kind === 'string';
}

/** The registry a node belongs to, walking up its parents. */
export function registryOf(node: RegistryTreeNode): RegistryNode {
  let n: RegistryTreeNode = node;
  while (n.kind !== 'registry') n = n.parent;
  return n;
}

/** What an image-level node points at: repository plus tag and/or digest. */
export interface ImageTarget {
  registry: RegistryNode;
  repository: string;
  tag?: string;
  digest?: string;
}

export function imageTargetOf(node: TagNode | ManifestNode | PlatformNode): ImageTarget {
  switch (node.kind) {
    case 'tag':
      return { registry: node.parent.parent, repository: node.parent.name, tag: node.tag };
    case 'manifest':
      return { registry: node.parent.parent.parent, repository: node.parent.parent.name, tag: node.parent.tag, digest: node.digest };
    case 'platform':
      // A platform's manifest is addressed by its own digest; the tag names the index.
      return { registry: node.parent.parent.parent.parent, repository: node.parent.parent.parent.name, digest: node.digest };
  }
}

/** A stable id per element, so VS Code keeps expansion and selection across refreshes. */
export function nodeId(node: TreeNode): string {
  switch (node.kind) {
    case 'registry':
      return `registry:${node.registry.id}`;
    case 'repository':
      return `${nodeId(node.parent)}/${node.name}`;
    case 'tag':
      return `${nodeId(node.parent)}:${node.tag}`;
    case 'manifest':
      return `${nodeId(node.parent)}@${node.digest}`;
    case 'platform':
      return `${nodeId(node.parent)}#${node.platform}@${node.digest}`;
    case 'referrers':
      return `${nodeId(node.parent)}#referrers`;
    case 'artifact':
      return `${nodeId(node.parent)}/${node.artifact.digest}`;
    case 'loadMore':
      return `${nodeId(node.parent)}#more`;
    case 'message':
      return `${nodeId(node.parent)}#${node.severity}:${node.message}`;
    case 'localImage':
      return `image:${node.image.reference ?? node.image.id}`;
  }
}
