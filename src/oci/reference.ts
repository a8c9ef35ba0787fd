/**
 * Image references `[host[:port]/]path[:tag][@digest]`, parsed and normalised the way the docker CLI
 * does (distribution's `reference.ParseNormalizedNamed` plus `TagNameOnly`), and formatted back.
 */
import { parseDigest } from './digest';
import { isRepositoryName, isTag, MAX_NAME_WITH_HOST } from './names';

/** The canonical name of Docker Hub in references. */
export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API actually answers. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The key the docker CLI uses for Docker Hub in `config.json` `auths` and credential helpers. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';
export const DEFAULT_TAG = 'latest';

/** Hosts that all reach Docker Hub, for choosing its API host and config key. */
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

export interface Reference {
  /** Registry host with optional port, as written in references: `docker.io`, `localhost:5000`, `ghcr.io`. */
  registry: string;
  /** Repository path inside the registry: `library/nginx`, `team/app`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export type ReferenceProblem =
  | 'empty'
  | 'bad-host'
  | 'uppercase-repository'
  | 'bad-repository'
  | 'bad-tag'
  | 'bad-digest'
  | 'too-long'
  | 'ambiguous-digest';

export interface ReferenceError {
  problem: ReferenceProblem;
  /** A sentence a person can act on. */
  message: string;
}

export interface ParseOptions {
  /** Add `:latest` when neither a tag nor a digest is given, as `docker pull` does. Default true. */
  defaultTag?: boolean;
}

/** A host component: letters, digits and `-` labels joined by dots, an optional port, or a bracketed IPv6 address. */
const HOST = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const HEX64 = /^[a-f0-9]{64}$/;

function fail(problem: ReferenceProblem, message: string): ReferenceError {
  return { problem, message };
}

/**
 * Splits `name` into host and path with the docker CLI's rule: the first component is a host only
 * when it contains `.` or `:`, or is exactly `localhost`; otherwise the name is on Docker Hub.
 */
export function splitHost(name: string): { registry: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) {
    return { registry: DOCKER_HUB, path: name };
  }
  return { registry: first, path: name.slice(slash + 1) };
}

/** Parses and normalises a reference; returns what is wrong with it when it cannot be used. */
export function parseReference(input: string, opts: ParseOptions = {}): Reference | ReferenceError {
  const text = input.trim();
  if (!text) return fail('empty', 'The image reference is empty; write it as name[:tag] or host/name[:tag].');
  if (HEX64.test(text)) {
    return fail('ambiguous-digest', `"${text}" looks like an image ID; to name content by digest write name@sha256:${text}.`);
  }

  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (scheme) {
    return fail('bad-host', `Image references have no scheme: write "${text.slice(scheme[0].length)}" without "${scheme[0]}".`);
  }

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const parsed = parseDigest(digest);
    if ('problem' in parsed) {
      return fail('bad-digest', `"${digest}" is not a valid digest; expected sha256: followed by 64 lowercase hex characters.`);
    }
  }

  // A tag follows the last ':' only when no '/' comes after it (otherwise that ':' is a port).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) {
      return fail('bad-tag', `"${tag}" is not a valid tag; tags are up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'.`);
    }
  }

  const split = splitHost(rest);
  let { registry, path } = split;
  if (registry !== DOCKER_HUB && !HOST.test(registry)) {
    return fail('bad-host', `"${registry}" is not a valid registry host; write it as host[:port].`);
  }
  // The docker CLI folds only the legacy index name into docker.io; other aliases stay as written.
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && path && !path.includes('/')) path = `library/${path}`;

  if (!path) return fail('bad-repository', `"${text}" names a registry but no repository; add /name after the host.`);
  if (path !== path.toLowerCase() && isRepositoryName(path.toLowerCase())) {
    return fail('uppercase-repository', `Repository names must be lowercase: use "${path.toLowerCase()}".`);
  }
  if (!isRepositoryName(path)) {
    return fail('bad-repository', `"${path}" is not a valid repository name; use lowercase letters, digits and single '.', '_', '__' or '-' separators between '/'-separated parts.`);
  }
  if (`${registry}/${path}`.length > MAX_NAME_WITH_HOST) {
    return fail('too-long', `The repository name with its host is longer than ${MAX_NAME_WITH_HOST} characters.`);
  }

  if (tag === undefined && digest === undefined && (opts.defaultTag ?? true)) tag = DEFAULT_TAG;
  return { registry, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function isReferenceError(value: Reference | ReferenceError): value is ReferenceError {
  return 'problem' in value;
}

/** Parses or throws an `Error` carrying the actionable message. */
export function mustParseReference(input: string, opts?: ParseOptions): Reference {
  const r = parseReference(input, opts);
  if (isReferenceError(r)) throw new Error(r.message);
  return r;
}

/** The host to send registry API requests to (`docker.io` answers at `registry-1.docker.io`). */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB || DOCKER_HUB_ALIASES.has(registry.toLowerCase()) ? DOCKER_HUB_API_HOST : registry;
}

/** The key the docker CLI uses for this registry in `config.json` and credential helpers. */
export function dockerConfigKey(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry.toLowerCase()) ? DOCKER_HUB_CONFIG_KEY : registry;
}

/** The registry part of a config.json key (`https://index.docker.io/v1/` → `docker.io`, `https://ghcr.io` → `ghcr.io`). */
export function registryFromConfigKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return DOCKER_HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host;
}

/** `docker.io/library/nginx` → `nginx`, `docker.io/team/app` → `team/app`, others unchanged. */
export function familiarName(registry: string, repository: string): string {
  if (registry !== DOCKER_HUB) return `${registry}/${repository}`;
  return repository.startsWith('library/') && repository.indexOf('/', 8) < 0 ? repository.slice(8) : repository;
}

/**
 * Formats a reference: `familiar` (default) is what the docker CLI prints (`nginx:latest`,
 * `localhost:5000/app@sha256:…`); `full` always names the host (`docker.io/library/nginx:latest`).
 */
export function formatReference(ref: Reference, form: 'familiar' | 'full' = 'familiar'): string {
  const name = form === 'full' ? `${ref.registry}/${ref.repository}` : familiarName(ref.registry, ref.repository);
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What to ask a registry's manifest endpoint for: the digest when there is one, else the tag. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}
