/**
 * Server keys as the docker CLI writes them into config.json and hands them to credential helpers.
 *
 * Docker Hub goes by several names (`https://index.docker.io/v1/`, `docker.io`, `index.docker.io`,
 * `registry-1.docker.io`) and the CLI always stores it under the legacy v1 URL; every other registry
 * is stored under its bare `host[:port]`, though older files hold `https://host/v1/`-style keys too.
 * The names themselves come from src/oci/reference.ts; this adds the leniency a config file needs
 * (any case, spaces, paths) and the comparison between keys.
 */
import { DOCKER_HUB, DOCKER_HUB_CONFIG_KEY, dockerConfigKey, registryFromConfigKey } from '../oci/reference';

export { DOCKER_HUB_CONFIG_KEY };

/**
 * `host[:port]`, lowercased, of a server written any way a person or a tool writes it:
 * with or without a scheme, with a path, with a trailing slash. Docker Hub's names all become `docker.io`.
 */
export function serverHost(server: string): string {
  return registryFromConfigKey(server.trim().toLowerCase());
}

export function isDockerHub(server: string): boolean {
  return serverHost(server) === DOCKER_HUB;
}

/** The key under which the docker CLI would store credentials for `server`. */
export function configKeyFor(server: string): string {
  return dockerConfigKey(serverHost(server));
}

/** True when two keys name the same registry (so `ghcr.io` finds an entry stored as `https://ghcr.io`). */
export function sameServer(a: string, b: string): boolean {
  return serverHost(a) === serverHost(b);
}
