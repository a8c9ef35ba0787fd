/**
 * The credentials the docker CLI would use, found and stored the way it finds and stores them:
 * `credHelpers[host]`, else `credsStore`, else the `auths` entry in config.json.
 */
import { join } from 'node:path';
import {
  CONFIG_FILE_NAME, decodeAuthEntry, dockerConfigDir, encodeAuthEntry, hasSecret, readDockerConfig, updateDockerConfig,
  type DockerConfigFile,
} from './dockerConfig';
import { CredentialHelper, IDENTITY_TOKEN_USERNAME, type HelperCredential } from './helper';
import { configKeyFor, sameServer, serverHost } from './servers';

export type CredentialSource =
  | { kind: 'file'; path: string }
  | { kind: 'helper'; helper: string; via: 'credsStore' | 'credHelpers' };

/** What a registry needs to sign someone in. Exactly one of password and identityToken is usually set. */
export interface LoginCredentials {
  username: string;
  password?: string;
  /** An OAuth2 refresh token (what `docker login` keeps for registries that hand one out). */
  identityToken?: string;
  email?: string;
}

export interface RegistryCredential extends LoginCredentials {
  /** The key the credentials were found under (`https://index.docker.io/v1/`, `ghcr.io`, …). */
  server: string;
  /** A bearer token stored by some tools in `registrytoken`; sent as is. */
  registryToken?: string;
  source: CredentialSource;
}

/** A server that has credentials, without the secret: what an "import" picker shows. */
export interface CredentialSummary {
  server: string;
  /** `host[:port]`, with Docker Hub as `docker.io`. */
  host: string;
  username?: string;
  source: CredentialSource;
}

export interface CredentialListing {
  entries: CredentialSummary[];
  /** Helpers that could not be asked, with why: the rest of the listing is still good. */
  problems: string[];
}

export interface DockerCredentialStoreOptions {
  /** The folder holding config.json; `$DOCKER_CONFIG` or `~/.docker` by default. */
  configDir?: string;
  /**
   * A credentials file by full path, instead of `<configDir>/config.json`: e.g. Podman's, Buildah's and
   * skopeo's `auth.json` (see containersAuthFiles), which has the same `auths`/`credHelpers` shape.
   */
  configFile?: string;
  /**
   * 'docker' (default) files Docker Hub under `https://index.docker.io/v1/` as the docker CLI does;
   * 'containers' under `docker.io`, as Podman, Buildah and skopeo do.
   */
  format?: 'docker' | 'containers';
  /** Environment for reading DOCKER_CONFIG and for running helpers. */
  env?: NodeJS.ProcessEnv;
  helperTimeoutMs?: number;
}

interface ResolvedHelper {
  helper: CredentialHelper;
  source: Extract<CredentialSource, { kind: 'helper' }>;
}

export class DockerCredentialStore {
  readonly configPath: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: DockerCredentialStoreOptions = {}) {
    this.env = options.env ?? process.env;
    this.configPath = options.configFile ?? join(options.configDir ?? dockerConfigDir(this.env), CONFIG_FILE_NAME);
  }

  /** The key this file's own tools use for `server`. */
  private keyFor(server: string): string {
    return this.options.format === 'containers' ? serverHost(server) : configKeyFor(server);
  }

  readConfig(): Promise<DockerConfigFile> {
    return readDockerConfig(this.configPath);
  }

  /** The helper the docker CLI would use for `server`, if any. */
  helperFor(server: string, config: DockerConfigFile): ResolvedHelper | undefined {
    const perHost = Object.entries(config.credHelpers ?? {}).find(([host, name]) => typeof name === 'string' && name && sameServer(host, server));
    if (perHost) {
      return {
        helper: this.makeHelper(perHost[1], `credHelpers["${perHost[0]}"] from ${this.configPath}`),
        source: { kind: 'helper', helper: perHost[1], via: 'credHelpers' },
      };
    }
    if (config.credsStore) {
      return {
        helper: this.makeHelper(config.credsStore, `credsStore from ${this.configPath}`),
        source: { kind: 'helper', helper: config.credsStore, via: 'credsStore' },
      };
    }
    return undefined;
  }

  /**
   * The credentials for `server` (any spelling: `docker.io`, `https://ghcr.io/`, `localhost:5000`),
   * or undefined when there are none. A helper that is missing, fails or times out throws a
   * CredentialHelperError whose message says what to do.
   */
  async get(server: string): Promise<RegistryCredential | undefined> {
    const config = await this.readConfig();
    const resolved = this.helperFor(server, config);
    if (resolved) {
      const fromHelper = await this.getFromHelper(resolved.helper, server);
      if (fromHelper) {
        const email = this.fileEntry(config, server)?.entry.email;
        return { ...credentialFromHelper(fromHelper), ...(typeof email === 'string' && email ? { email } : {}), source: resolved.source };
      }
    }
    // Entries written before a helper was configured still work for the docker CLI's older versions; use them too.
    const found = this.fileEntry(config, server);
    if (!found) return undefined;
    const decoded = decodeAuthEntry(found.entry);
    if (!hasSecret(decoded)) return undefined;
    return { server: found.key, username: decoded.username ?? '', ...withoutUsername(decoded), source: { kind: 'file', path: this.configPath } };
  }

  /** Every server with credentials, secrets left out; one entry per registry, in the order the CLI prefers. */
  async list(): Promise<CredentialListing> {
    const config = await this.readConfig();
    const entries: CredentialSummary[] = [];
    const problems: string[] = [];
    const add = (e: CredentialSummary): void => {
      if (!entries.some((x) => x.host === e.host)) entries.push(e);
    };
    const helperLists = new Map<string, Promise<Record<string, string>>>();
    const listOf = (helper: CredentialHelper): Promise<Record<string, string>> => {
      let p = helperLists.get(helper.name);
      if (!p) {
        p = helper.list();
        helperLists.set(helper.name, p);
      }
      return p;
    };
    for (const [host, name] of Object.entries(config.credHelpers ?? {})) {
      if (typeof name !== 'string' || !name) continue;
      const resolved = this.helperFor(host, config);
      if (!resolved) continue;
      let username: string | undefined;
      try {
        const listed = await listOf(resolved.helper);
        username = Object.entries(listed).find(([url]) => sameServer(url, host))?.[1];
      } catch (e) {
        problems.push((e as Error).message);
      }
      add({ server: host, host: serverHost(host), ...(username && username !== IDENTITY_TOKEN_USERNAME ? { username } : {}), source: resolved.source });
    }
    if (config.credsStore) {
      const store = this.makeHelper(config.credsStore, `credsStore from ${this.configPath}`);
      try {
        for (const [url, username] of Object.entries(await listOf(store))) {
          add({ server: url, host: serverHost(url), ...(username && username !== IDENTITY_TOKEN_USERNAME ? { username } : {}), source: { kind: 'helper', helper: store.name, via: 'credsStore' } });
        }
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      const decoded = decodeAuthEntry(entry ?? {});
      if (!hasSecret(decoded)) continue;
      add({ server: key, host: serverHost(key), ...(decoded.username ? { username: decoded.username } : {}), source: { kind: 'file', path: this.configPath } });
    }
    return { entries, problems: [...new Set(problems)] };
  }

  /**
   * Signs the docker CLI in to `server`: through the helper it would use, else into `auths`.
   * Returns where the credentials went.
   */
  async store(server: string, credentials: LoginCredentials): Promise<CredentialSource> {
    if (!credentials.password && !credentials.identityToken) {
      throw new Error(`Nothing to log in to ${server} with: give a password, an access token or an identity token.`);
    }
    const key = this.keyFor(server);
    const config = await this.readConfig();
    const resolved = this.helperFor(server, config);
    if (resolved) {
      await resolved.helper.store(credentials.identityToken
        ? { serverUrl: key, username: IDENTITY_TOKEN_USERNAME, secret: credentials.identityToken }
        : { serverUrl: key, username: credentials.username, secret: credentials.password ?? '' });
      // Like the CLI: the file keeps an empty entry so tools that read only `auths` see the login,
      // and any password written there before the helper was configured is gone.
      await updateDockerConfig(this.configPath, (c) => {
        c.auths = { ...(c.auths ?? {}), [key]: {} };
      });
      return resolved.source;
    }
    await updateDockerConfig(this.configPath, (c) => {
      c.auths = { ...(c.auths ?? {}), [key]: encodeAuthEntry(credentials.username, credentials.password ?? '', credentials.identityToken) };
    });
    return { kind: 'file', path: this.configPath };
  }

  /** Signs the docker CLI out of `server`: from its helper and from `auths`, under every spelling of the server. */
  async erase(server: string): Promise<void> {
    const config = await this.readConfig();
    const resolved = this.helperFor(server, config);
    if (resolved) {
      const listed = Object.keys(await resolved.helper.list()).filter((url) => sameServer(url, server));
      // Some helpers (ecr-login) list nothing yet hold credentials: then erase under the CLI's own key.
      for (const key of listed.length ? listed : [this.keyFor(server)]) await resolved.helper.erase(key);
    }
    if (Object.keys(config.auths ?? {}).some((k) => sameServer(k, server))) {
      await updateDockerConfig(this.configPath, (c) => {
        for (const k of Object.keys(c.auths ?? {})) if (sameServer(k, server)) delete c.auths?.[k];
      });
    }
  }

  private makeHelper(name: string, configuredIn: string): CredentialHelper {
    return new CredentialHelper(name, {
      env: this.env,
      configuredIn,
      ...(this.options.helperTimeoutMs !== undefined ? { timeoutMs: this.options.helperTimeoutMs } : {}),
    });
  }

  /** Helpers store under whatever URL was given at login; try the CLI's key, then any key naming the same registry. */
  private async getFromHelper(helper: CredentialHelper, server: string): Promise<HelperCredential | undefined> {
    const key = this.keyFor(server);
    const direct = await helper.get(key);
    if (direct) return { ...direct, serverUrl: key };
    const listed = await helper.list();
    const other = Object.keys(listed).find((url) => url !== key && sameServer(url, server));
    if (!other) return undefined;
    const found = await helper.get(other);
    return found ? { ...found, serverUrl: other } : undefined;
  }

  private fileEntry(config: DockerConfigFile, server: string): { key: string; entry: NonNullable<DockerConfigFile['auths']>[string] } | undefined {
    const auths = config.auths ?? {};
    const key = this.keyFor(server);
    const exact = auths[key];
    if (exact) return { key, entry: exact };
    const other = Object.keys(auths).find((k) => sameServer(k, server));
    const entry = other === undefined ? undefined : auths[other];
    return other !== undefined && entry ? { key: other, entry } : undefined;
  }
}

function credentialFromHelper(c: HelperCredential): Omit<RegistryCredential, 'source'> {
  return c.username === IDENTITY_TOKEN_USERNAME
    ? { server: c.serverUrl, username: '', identityToken: c.secret }
    : { server: c.serverUrl, username: c.username, password: c.secret };
}

function withoutUsername<T extends { username?: string }>(d: T): Omit<T, 'username'> {
  const { username: _username, ...rest } = d;
  return rest;
}
