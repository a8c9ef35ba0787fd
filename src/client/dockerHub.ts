/**
 * Docker Hub has no `_catalog`; its own API lists a namespace's repositories, paged:
 * `GET https://hub.docker.com/v2/namespaces/<ns>/repositories?page_size=N` → `{count, next, results}`.
 * Private repositories need a Hub JWT from `POST /v2/users/login` (username + password or access token).
 */
import type { Credential } from './auth';
import { RegistryError } from './errors';
import type { Page } from './paging';
import type { HttpResponse, Transport } from './transport';
import { dockerHubSearchPage, type SearchApiPage } from './search';

export const DOCKER_HUB_API_URL = 'https://hub.docker.com';

interface HubRepositories {
  next?: string | null;
  results?: Array<{ name?: string; namespace?: string }>;
}

export class DockerHubApi {
  private jwt: Promise<string | undefined> | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly credential: () => Promise<Credential | undefined>,
    private readonly apiUrl: string = DOCKER_HUB_API_URL,
  ) {}

  forget(): void {
    this.jwt = undefined;
  }

  private login(signal?: AbortSignal): Promise<string | undefined> {
    this.jwt ??= (async () => {
      const c = await this.credential();
      if (!c || !('password' in c)) return undefined;
      const res = await this.transport.send({
        method: 'POST', url: new URL('/v2/users/login', this.apiUrl), what: 'sign in to Docker Hub',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: c.username, password: c.password }),
        ...(signal ? { signal } : {}),
      });
      const text = await res.text();
      if (res.status !== 200) {
        throw new RegistryError({ kind: 'unauthorized', host: 'docker.io', status: res.status, message: 'Docker Hub refused the saved credentials. Sign in to Docker Hub again (a personal access token works as the password).' });
      }
      return (JSON.parse(text) as { token?: string }).token;
    })().catch((e: unknown) => {
      this.jwt = undefined;
      throw e;
    });
    return this.jwt;
  }

  /** One page of `namespace`'s repositories, as `namespace/name`. */
  async repositoriesPage(namespace: string, pageSize: number, cursorUrl: string | undefined, signal?: AbortSignal): Promise<Page<string>> {
    const url = cursorUrl ? new URL(cursorUrl) : new URL(`/v2/namespaces/${encodeURIComponent(namespace)}/repositories?page_size=${pageSize}`, this.apiUrl);
    // Only follow `next` links that stay on the Hub API: the JWT must not go anywhere else.
    if (url.origin !== new URL(this.apiUrl).origin) {
      throw new RegistryError({ kind: 'invalid-response', host: 'docker.io', message: `Docker Hub pointed the next page at ${url.origin}; refusing to follow.` });
    }
    const jwt = await this.login(signal);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (jwt) headers['Authorization'] = `Bearer ${jwt}`;
    const res: HttpResponse = await this.transport.send({ method: 'GET', url, headers, what: `list repositories of ${namespace} on Docker Hub`, ...(signal ? { signal } : {}) });
    const text = await res.text();
    if (res.status === 404) {
      throw new RegistryError({ kind: 'not-found', host: 'docker.io', status: 404, message: `Docker Hub has no namespace "${namespace}". Check the user or organisation name.` });
    }
    if (res.status === 401 || res.status === 403) {
      this.jwt = undefined;
      throw new RegistryError({ kind: res.status === 401 ? 'unauthorized' : 'denied', host: 'docker.io', status: res.status, message: `Docker Hub did not let this account list the repositories of ${namespace}. Sign in with an account that belongs to it.` });
    }
    if (res.status !== 200) {
      throw new RegistryError({ kind: res.status === 429 ? 'rate-limited' : 'server-error', host: 'docker.io', status: res.status, message: `Docker Hub failed to list the repositories of ${namespace} (HTTP ${res.status}); try again later.` });
    }
    let body: HubRepositories;
    try {
      body = JSON.parse(text) as HubRepositories;
    } catch (e) {
      throw new RegistryError({ kind: 'invalid-response', host: 'docker.io', cause: e, message: 'Docker Hub answered the repository list with something that is not JSON.' });
    }
    const items = (body.results ?? []).filter((r) => r.name).map((r) => `${r.namespace ?? namespace}/${r.name ?? ''}`);
    return { items, ...(body.next ? { next: { url: new URL(body.next, url).toString() } } : {}) };
  }

  /**
   * One page of Docker Hub's repository search (public repositories whose name or description holds
   * `query`), as registry names. Anonymous: the search is public.
   */
  async searchPage(query: string, pageSize: number, cursorUrl: string | undefined, signal?: AbortSignal): Promise<SearchApiPage> {
    const url = cursorUrl ? new URL(cursorUrl) : new URL(`/v2/search/repositories/?query=${encodeURIComponent(query)}&page_size=${pageSize}`, this.apiUrl);
    if (url.origin !== new URL(this.apiUrl).origin) {
      throw new RegistryError({ kind: 'invalid-response', host: 'docker.io', message: `Docker Hub pointed the next search page at ${url.origin}; refusing to follow.` });
    }
    const res = await this.transport.send({ method: 'GET', url, headers: { Accept: 'application/json' }, what: `search Docker Hub for "${query}"`, ...(signal ? { signal } : {}) });
    const text = await res.text();
    if (res.status !== 200) {
      throw new RegistryError({ kind: res.status === 429 ? 'rate-limited' : 'server-error', host: 'docker.io', status: res.status, message: `Docker Hub's search failed (HTTP ${res.status}); try again later.` });
    }
    try {
      return dockerHubSearchPage(JSON.parse(text), url);
    } catch (e) {
      throw new RegistryError({ kind: 'invalid-response', host: 'docker.io', cause: e, message: 'Docker Hub answered the search with something that is not JSON.' });
    }
  }
}
