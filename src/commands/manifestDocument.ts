/** The read-only document "Inspect Manifest" opens: the manifest, its digest, config and sizes. */
import type { Manifest } from '../oci/types';
import { formatBytes } from '../oci/format';
import type { ImageConfigInfo, ManifestWithBytes } from '../app/ports';

export function manifestDocument(reference: string, m: ManifestWithBytes, config: ImageConfigInfo | undefined): string {
  const manifest = m.manifest as Manifest;
  const summary: Record<string, unknown> = { reference, digest: m.digest, mediaType: m.mediaType, manifestSize: m.size };
  if ('layers' in manifest) {
    const layersBytes = manifest.layers.reduce((s, l) => s + l.size, 0);
    summary.totalSize = `${formatBytes(manifest.config.size + layersBytes)} (${manifest.config.size + layersBytes} bytes: config ${manifest.config.size}, layers ${layersBytes})`;
    summary.layers = manifest.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
    if (config) {
      summary.config = { digest: manifest.config.digest, size: manifest.config.size, ...(config.created ? { created: config.created } : {}), ...(config.os ? { os: config.os } : {}), ...(config.architecture ? { architecture: config.architecture } : {}) };
    }
  } else if ('manifests' in manifest) {
    summary.platforms = manifest.manifests.map((d) => ({ platform: d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : (d.artifactType ?? 'unknown'), digest: d.digest, size: d.size }));
  }
  const doc: Record<string, unknown> = { summary, manifest };
  if (config) doc.imageConfig = config.raw;
  return JSON.stringify(doc, null, 2) + '\n';
}

/** `berth:/host/repo@sha256-abc.json`: a stable path per manifest so reopening reuses the tab. */
export function manifestDocumentPath(host: string, repository: string, digest: string): string {
  return `/${host}/${repository}@${digest.replace(':', '-')}.json`;
}
