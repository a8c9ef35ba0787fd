/**
 * Where the Docker engine is, decided the way the docker CLI decides it: an explicit socket or host,
 * else DOCKER_HOST, else the current docker context (DOCKER_CONTEXT or `currentContext` in
 * config.json: Docker Desktop and rootless setups live there), else the platform's default socket.
 * Where the CLI would stop at a missing /var/run/docker.sock, this also looks where rootless Docker,
 * Docker Desktop and Podman's Docker-compatible service put their sockets, since an editor cannot
 * count on a shell having set DOCKER_HOST.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export type EngineEndpoint =
  | { kind: 'socket'; socketPath: string }
  | { kind: 'tcp'; protocol: 'http' | 'https'; host: string; port: number; tls?: { caPath: string; certPath: string; keyPath: string } }
  | { kind: 'ssh'; host: string; port?: number; username?: string };

export type EndpointSource = 'socketPath' | 'dockerHost' | 'DOCKER_HOST' | 'context' | 'default' | 'well-known socket';

export interface ResolvedEndpoint {
  endpoint: EngineEndpoint;
  source: EndpointSource;
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, for messages. */
  display: string;
}

export interface EndpointOptions {
  /** A socket (or Windows named pipe) path; wins over everything else. */
  socketPath?: string;
  /** A DOCKER_HOST-style URL (`unix://…`, `tcp://…`, `npipe://…`, `ssh://…`), e.g. from a setting. */
  dockerHost?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** The docker CLI's config folder, for contexts; `$DOCKER_CONFIG` or `~/.docker`. */
  configDir?: string;
  /** Reads a small file, undefined when absent; injected so resolution stays testable without a disk. */
  readText?: (path: string) => string | undefined;
  /** Whether a socket exists; with it, a missing default socket makes way for the well-known others. */
  exists?: (path: string) => boolean;
}

export class EndpointError extends Error {
  override readonly name = 'EndpointError';
}

export const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';
export const DEFAULT_WINDOWS_PIPE = '//./pipe/docker_engine';

export function resolveEngineEndpoint(opts: EndpointOptions = {}): ResolvedEndpoint {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  if (opts.socketPath) return withDisplay({ kind: 'socket', socketPath: opts.socketPath }, 'socketPath');
  if (opts.dockerHost) return withDisplay(parseDockerHost(opts.dockerHost, env), 'dockerHost');
  const fromEnv = env['DOCKER_HOST'];
  if (fromEnv) return withDisplay(parseDockerHost(fromEnv, env), 'DOCKER_HOST');
  const fromContext = contextHost(opts, env);
  if (fromContext) return withDisplay(parseDockerHost(fromContext, env), 'context');
  if (platform === 'win32') return withDisplay({ kind: 'socket', socketPath: DEFAULT_WINDOWS_PIPE }, 'default');
  const exists = opts.exists;
  if (exists && !exists(DEFAULT_UNIX_SOCKET)) {
    const found = wellKnownSockets(env).find((p) => exists(p));
    if (found) return withDisplay({ kind: 'socket', socketPath: found }, 'well-known socket');
  }
  return withDisplay({ kind: 'socket', socketPath: DEFAULT_UNIX_SOCKET }, 'default');
}

/**
 * Sockets other setups use, in the order they are tried when /var/run/docker.sock is missing:
 * rootless Docker, Docker Desktop (macOS, then Linux), then Podman's Docker-compatible service.
 */
export function wellKnownSockets(env: NodeJS.ProcessEnv): string[] {
  const home = env['HOME'];
  const runtime = env['XDG_RUNTIME_DIR'];
  return [
    ...(runtime ? [join(runtime, 'docker.sock')] : []),
    ...(home ? [join(home, '.docker', 'run', 'docker.sock'), join(home, '.docker', 'desktop', 'docker.sock')] : []),
    ...(runtime ? [join(runtime, 'podman', 'podman.sock')] : []),
    '/run/podman/podman.sock',
  ];
}

/** Parses a DOCKER_HOST value; TLS for tcp follows DOCKER_TLS_VERIFY and DOCKER_CERT_PATH like the CLI. */
export function parseDockerHost(value: string, env: NodeJS.ProcessEnv = {}): EngineEndpoint {
  const v = value.trim();
  const scheme = /^([a-z]+):\/\//i.exec(v)?.[1]?.toLowerCase();
  if (scheme === 'unix') return { kind: 'socket', socketPath: v.slice('unix://'.length) };
  if (scheme === 'npipe') return { kind: 'socket', socketPath: v.slice('npipe://'.length).replace(/\\/g, '/') };
  if (!scheme && v.startsWith('/')) return { kind: 'socket', socketPath: v };
  let url: URL;
  try {
    url = new URL(scheme ? v : `tcp://${v}`);
  } catch {
    throw new EndpointError(`"${value}" is not a Docker host: use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new EndpointError(`"${value}" names no host: use tcp://host:port`);
  if (url.protocol === 'ssh:') {
    return { kind: 'ssh', host, ...(url.port ? { port: Number(url.port) } : {}), ...(url.username ? { username: decodeURIComponent(url.username) } : {}) };
  }
  if (!['tcp:', 'http:', 'https:'].includes(url.protocol)) {
    throw new EndpointError(`"${value}" uses ${url.protocol}// which the engine does not speak: use unix://, tcp://, npipe:// or ssh://`);
  }
  const tlsVerify = !!env['DOCKER_TLS_VERIFY'] || url.protocol === 'https:';
  const port = url.port ? Number(url.port) : tlsVerify ? 2376 : 2375;
  if (!tlsVerify) return { kind: 'tcp', protocol: 'http', host, port };
  const certDir = env['DOCKER_CERT_PATH'] || join(env['HOME'] ?? '', '.docker');
  return { kind: 'tcp', protocol: 'https', host, port, tls: { caPath: join(certDir, 'ca.pem'), certPath: join(certDir, 'cert.pem'), keyPath: join(certDir, 'key.pem') } };
}

export function displayEndpoint(e: EngineEndpoint): string {
  switch (e.kind) {
    case 'socket':
      return e.socketPath.startsWith('//') ? `npipe://${e.socketPath}` : `unix://${e.socketPath}`;
    case 'tcp':
      return `tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
    case 'ssh':
      return `ssh://${e.username ? `${e.username}@` : ''}${e.host}${e.port ? `:${e.port}` : ''}`;
  }
}

function withDisplay(endpoint: EngineEndpoint, source: EndpointSource): ResolvedEndpoint {
  return { endpoint, source, display: displayEndpoint(endpoint) };
}

/** The docker host of the current context, when it is not the default one. */
function contextHost(opts: EndpointOptions, env: NodeJS.ProcessEnv): string | undefined {
  const read = opts.readText;
  if (!read) return undefined;
  const configDir = opts.configDir ?? (env['DOCKER_CONFIG'] || join(env['HOME'] ?? '', '.docker'));
  let name = env['DOCKER_CONTEXT'];
  if (!name) {
    try {
      const config = JSON.parse(read(join(configDir, 'config.json')) ?? '{}') as { currentContext?: unknown };
      if (typeof config.currentContext === 'string') name = config.currentContext;
    } catch {
      // A broken config.json is reported by the credentials code; here it just means no context.
    }
  }
  if (!name || name === 'default') return undefined;
  const metaPath = join(configDir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'), 'meta.json');
  const text = read(metaPath);
  if (!text) throw new EndpointError(`The docker context "${name}" is selected but ${metaPath} does not exist: run "docker context use default" or recreate the context`);
  try {
    const meta = JSON.parse(text) as { Endpoints?: { docker?: { Host?: unknown } } };
    const host = meta.Endpoints?.docker?.Host;
    if (typeof host === 'string' && host) return host;
  } catch {
    // fall through to the error below
  }
  throw new EndpointError(`The docker context "${name}" has no engine address in ${metaPath}: recreate it with "docker context create"`);
}
