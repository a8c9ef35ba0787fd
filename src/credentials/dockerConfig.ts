/**
 * The docker CLI's config.json: where it lives, what its credential parts mean, and writing it back
 * without disturbing anything else in it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isRecord } from './helper';

export const CONFIG_FILE_NAME = 'config.json';

/** One `auths` entry as the docker CLI writes it; unknown fields are kept as they are. */
export interface AuthEntry {
  /** base64 of `username:password` */
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
  [other: string]: unknown;
}

/** The parts of config.json this project reads; every other key is carried through untouched. */
export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  currentContext?: string;
  [other: string]: unknown;
}

/** Credentials decoded from an `auths` entry. */
export interface DecodedAuth {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
  email?: string;
}

/**
 * The folder whose config.json the docker CLI uses: `$DOCKER_CONFIG` when set, else `~/.docker`.
 */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const fromEnv = env['DOCKER_CONFIG'];
  return fromEnv && fromEnv.trim() ? fromEnv : join(home, '.docker');
}

/**
 * Every config folder worth importing from, the one the CLI uses first: `$DOCKER_CONFIG` and `~/.docker`
 * differ when a person points DOCKER_CONFIG elsewhere for some shells only.
 */
export function dockerConfigDirs(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  const dirs = [dockerConfigDir(env, home), join(home, '.docker')];
  return dirs.filter((d, i) => dirs.indexOf(d) === i);
}

/**
 * The credential files of Podman, Buildah and skopeo (containers-auth.json(5)), in the order they look:
 * `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`, then `$XDG_CONFIG_HOME/containers/auth.json`.
 */
export function containersAuthFiles(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  const files = [
    env['REGISTRY_AUTH_FILE'],
    env['XDG_RUNTIME_DIR'] ? join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json') : undefined,
    join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'containers', 'auth.json'),
  ].filter((f): f is string => !!f);
  return files.filter((f, i) => files.indexOf(f) === i);
}

export class DockerConfigError extends Error {
  override readonly name = 'DockerConfigError';
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

/** Parses config.json text; an empty file is an empty config, as the docker CLI treats it. */
export function parseDockerConfig(text: string, path: string): DockerConfigFile {
  if (!text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DockerConfigError(`${path} is not valid JSON (${(e as Error).message}): fix it or move it aside`, path);
  }
  if (!isRecord(parsed)) throw new DockerConfigError(`${path} does not hold a JSON object: fix it or move it aside`, path);
  const config = parsed as DockerConfigFile;
  const wrongType = (key: string, what: string): never => {
    throw new DockerConfigError(`"${key}" in ${path} must be ${what}: fix it or remove the key`, path);
  };
  if (config.auths !== undefined && !isRecord(config.auths)) wrongType('auths', 'an object');
  if (config.credHelpers !== undefined && !isRecord(config.credHelpers)) wrongType('credHelpers', 'an object of host → helper name');
  if (config.credsStore !== undefined && typeof config.credsStore !== 'string') wrongType('credsStore', 'a helper name');
  return config;
}

/** Reads a config.json; a missing file is an empty config. */
export async function readDockerConfig(path: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new DockerConfigError(`cannot read ${path}: ${(e as Error).message}`, path);
  }
  return parseDockerConfig(text, path);
}

/**
 * Decodes an entry: `auth` is base64 of `user:password` where only the first ':' separates them
 * (passwords and tokens may contain ':'); explicit `username`/`password` fields win over it, as in the CLI.
 */
export function decodeAuthEntry(entry: AuthEntry): DecodedAuth {
  const out: DecodedAuth = {};
  if (typeof entry.auth === 'string' && entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) {
      out.username = text.slice(0, colon);
      out.password = text.slice(colon + 1);
    }
  }
  if (typeof entry.username === 'string' && entry.username) out.username = entry.username;
  if (typeof entry.password === 'string' && entry.password) out.password = entry.password;
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) out.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === 'string' && entry.registrytoken) out.registryToken = entry.registrytoken;
  if (typeof entry.email === 'string' && entry.email) out.email = entry.email;
  return out;
}

export function hasSecret(d: DecodedAuth): boolean {
  return !!(d.password || d.identityToken || d.registryToken);
}

/** The `auths` entry the docker CLI writes for a login. */
export function encodeAuthEntry(username: string, password: string, identityToken?: string): AuthEntry {
  const entry: AuthEntry = {};
  if (identityToken) {
    // The CLI keeps the username beside an identity token (with an empty password) so it can show who is signed in.
    entry.auth = Buffer.from(`${username}:`).toString('base64');
    entry.identitytoken = identityToken;
  } else entry.auth = Buffer.from(`${username}:${password}`).toString('base64');
  return entry;
}

/**
 * Changes a config.json in place: reads it, lets `change` edit the parsed object, and writes it
 * back atomically (a temp file in the same folder, then rename) with mode 0600, so a crash never
 * leaves half a file and other readers see the old or the new one. Keys `change` does not touch
 * are written back as they were. A symlinked config.json (dotfile managers) is written through the link.
 */
export function updateDockerConfig(path: string, change: (config: DockerConfigFile) => void): Promise<DockerConfigFile> {
  // Two logins at once in this process must both land: each read-modify-write waits for the one before.
  const previous = pendingUpdates.get(path) ?? Promise.resolve();
  const next = previous.then(() => updateNow(path, change), () => updateNow(path, change));
  const tail = next.catch(() => undefined);
  pendingUpdates.set(path, tail);
  void tail.then(() => {
    if (pendingUpdates.get(path) === tail) pendingUpdates.delete(path);
  });
  return next;
}

const pendingUpdates = new Map<string, Promise<unknown>>();

async function updateNow(path: string, change: (config: DockerConfigFile) => void): Promise<DockerConfigFile> {
  let target = path;
  try {
    target = await fs.realpath(path);
  } catch {
    // Not there yet: it will be created.
  }
  const config = await readDockerConfig(target);
  change(config);
  await fs.mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const temp = join(dirname(target), `.${CONFIG_FILE_NAME}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // The docker CLI indents with tabs; writing the same keeps diffs of the file small.
    await fs.writeFile(temp, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600, flag: 'wx' });
    await fs.chmod(temp, 0o600);
    await fs.rename(temp, target);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw new DockerConfigError(`cannot write ${target}: ${(e as Error).message}`, target);
  }
  return config;
}
