import type { LocalImage, LocalImageNode } from './nodes';

/** One row per `repo:tag` (as `docker images` shows), untagged images once; newest first. */
export function imageRows(images: readonly LocalImage[]): LocalImageNode[] {
  const rows: LocalImageNode[] = [];
  for (const image of images) {
    const tags = image.repoTags.filter((t) => t !== '<none>:<none>');
    if (tags.length === 0) rows.push({ kind: 'localImage', image: { ...image, repoTags: [] } });
    for (const reference of tags) rows.push({ kind: 'localImage', image: { ...image, reference } });
  }
  return rows.sort((a, b) => b.image.createdMs - a.image.createdMs || (a.image.reference ?? '').localeCompare(b.image.reference ?? ''));
}

/** The engine's image record (src/engine's LocalImage) as the tree's plain data. */
export function toLocalImage(e: { id: string; tags: string[]; sizeBytes: number; createdAt: Date }): LocalImage {
  return { id: e.id, repoTags: e.tags, sizeBytes: e.sizeBytes, createdMs: e.createdAt.getTime() };
}
