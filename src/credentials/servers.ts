/**
 * Server keys as the docker CLI writes them into config.json and hands them to credential helpers.
 *
 * Docker Hub goes by four names (`https://index.docker.io/v1/`, `docker.io`, `index.docker.io`,
 * `registry-1.docker.io`) and the CLI always stores it under the legacy v1 URL; every other registry
 * is stored under its bare `host[:port]`, though older files hold `https://host/v1/`-style keys too.
 */

/** The key the docker CLI uses for Docker Hub in `auths` and with credential helpers. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

const DOCKER_HUB_HOSTS: readonly string[] = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/**
 * `host[:port]`, lowercased, of a server written any way a person or a tool writes it:
 * with or without a scheme, with a path, with a trailing slash. Docker Hub's names all become `docker.io`.
 */
export function serverHost(server: string): string {
  let s = server.trim();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  s = s.toLowerCase();
  return DOCKER_HUB_HOSTS.includes(s) ? 'docker.io' : s;
}

export function isDockerHub(server: string): boolean {
  return serverHost(server) === 'docker.io';
}

/** The key under which the docker CLI would store credentials for `server`. */
export function configKeyFor(server: string): string {
  const host = serverHost(server);
  return host === 'docker.io' ? DOCKER_HUB_CONFIG_KEY : host;
}

/** True when two keys name the same registry (so `ghcr.io` finds an entry stored as `https://ghcr.io`). */
export function sameServer(a: string, b: string): boolean {
  return serverHost(a) === serverHost(b);
}
