/** Image references as the docker CLI and a Kubernetes manifest want them. */
import type { ImageTarget } from '../views/nodes';
import type { RegistryEntry } from '../app/registryEntry';

/** The host docker uses for this registry (`127.0.0.1:5000` for the local one). */
export function dockerHost(entry: RegistryEntry, localPort?: number): string {
  if (entry.id === 'local') return `127.0.0.1:${localPort ?? 5000}`;
  return entry.server;
}

/** `host/repo:tag`, or `host/repo@digest` when a digest is known and `preferDigest` is set. */
export function imageReference(t: ImageTarget, localPort?: number, preferDigest = false): string {
  const host = dockerHost(t.registry.registry, localPort);
  const name = host === 'docker.io' ? `docker.io/${t.repository}` : `${host}/${t.repository}`;
  if (t.digest && (preferDigest || !t.tag)) return `${name}@${t.digest}`;
  return `${name}:${t.tag ?? 'latest'}`;
}

export function dockerPullCommand(t: ImageTarget, localPort?: number): string {
  return `docker pull ${imageReference(t, localPort, !!t.digest)}`;
}
