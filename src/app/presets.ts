/**
 * Registry presets: what the extension knows about a kind of registry (its hosts, what to ask when
 * connecting, how its repositories are listed), so registry-specific behaviour reads the entry's
 * preset instead of comparing host names. Plus the validation of what a person types.
 */
import { serverHost } from '../credentials/servers';
import { validateRegistrySecret } from '../credentials/registrySecret';
import { isLoopbackHost } from '../oci/host';
import type { PresetId, RegistryEntry } from './registryEntry';
import type { SearchSource } from '../client/search';
export { serverProblem } from '../credentials/registrySecret';

/**
 * How a registry's repositories are listed: the spec's catalog (`/v2/_catalog`), or, where the
 * registry has none for users (Docker Hub), the signed-in account's own namespace.
 */
export type RepositoryListing = 'catalog' | 'account-namespace';

/**
 * How a filter finds repositories in the whole registry: a registry's own search API where it has
 * one (Harbor's `/api/v2.0/search`, Docker Hub's repository search), else every page of the catalog.
 */
export type RepositorySearch = SearchSource;

export interface Preset {
  id: PresetId;
  label: string;
  detail: string;
  /** Hosts that are this registry whatever the person picked (`docker.io` is Docker Hub). */
  hosts: readonly string[];
  /** Fixed server, or undefined when the person types it. */
  server?: string;
  /** The server input's placeholder, and the value it starts with when most people use one host. */
  serverPlaceholder: string;
  serverValue?: string;
  usernamePrompt: string;
  secretPrompt: string;
  /** An example repository name in this registry, for prompts. */
  repositoryExample: string;
  listing: RepositoryListing;
  search: RepositorySearch;
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'dockerhub', label: 'Docker Hub', detail: 'docker.io', hosts: ['docker.io', 'index.docker.io', 'registry-1.docker.io'], server: 'docker.io',
    serverPlaceholder: 'docker.io', usernamePrompt: 'Docker ID', secretPrompt: 'Password or personal access token',
    repositoryExample: 'library/nginx or myname/app', listing: 'account-namespace', search: 'docker-hub',
  },
  {
    id: 'ghcr', label: 'GitHub Container Registry', detail: 'ghcr.io', hosts: ['ghcr.io'], server: 'ghcr.io',
    serverPlaceholder: 'ghcr.io', usernamePrompt: 'GitHub user name', secretPrompt: 'Personal access token (classic) with read:packages',
    repositoryExample: 'owner/app', listing: 'catalog', search: 'catalog',
  },
  {
    id: 'quay', label: 'Quay', detail: 'quay.io', hosts: ['quay.io'], server: 'quay.io',
    serverPlaceholder: 'quay.io', usernamePrompt: 'Quay user name or robot account', secretPrompt: 'Password or robot token',
    repositoryExample: 'organisation/app', listing: 'catalog', search: 'catalog',
  },
  {
    id: 'gitlab', label: 'GitLab Container Registry', detail: 'registry.gitlab.com or your instance', hosts: ['registry.gitlab.com'],
    serverPlaceholder: 'registry.gitlab.com', serverValue: 'registry.gitlab.com', usernamePrompt: 'GitLab user name',
    secretPrompt: 'Personal or deploy token with read_registry', repositoryExample: 'group/project/app', listing: 'catalog', search: 'catalog',
  },
  {
    id: 'harbor', label: 'Harbor', detail: 'your Harbor instance; filters use its search API', hosts: [],
    serverPlaceholder: 'harbor.example.com', usernamePrompt: 'Harbor user name or robot account (empty for anonymous)',
    secretPrompt: 'Password or robot secret', repositoryExample: 'project/app', listing: 'catalog', search: 'harbor',
  },
  {
    id: 'generic', label: 'Other registry (OCI / Docker V2)', detail: 'Harbor, registry:2, Nexus, Artifactory…', hosts: [],
    serverPlaceholder: 'registry.example.com', usernamePrompt: 'User name (empty for anonymous)', secretPrompt: 'Password or token',
    repositoryExample: 'team/app', listing: 'catalog', search: 'catalog',
  },
  {
    id: 'local', label: 'A registry on this machine', detail: 'localhost:PORT over plain HTTP', hosts: [],
    serverPlaceholder: 'localhost:5000', serverValue: 'localhost:5000', usernamePrompt: 'User name (empty for anonymous)',
    secretPrompt: 'Password or token', repositoryExample: 'team/app', listing: 'catalog', search: 'catalog',
  },
];

export function presetById(id: PresetId): Preset {
  const p = PRESETS.find((x) => x.id === id);
  if (!p) throw new Error(`unknown preset ${id}`);
  return p;
}

/** The preset of a saved entry (entries saved before a preset existed read as generic). */
export function presetOf(entry: RegistryEntry): Preset {
  return PRESETS.find((p) => p.id === entry.preset) ?? presetById('generic');
}

/** The preset a host belongs to: a known registry's, `local` for loopback, else `generic`. */
export function presetForHost(host: string): PresetId {
  const h = serverHost(host);
  return PRESETS.find((p) => p.hosts.includes(h))?.id ?? (isLoopbackHost(h) ? 'local' : 'generic');
}

/** Why an optional e-mail is not one (the credentials layer owns the rule). */
export function emailProblem(email: string): string | undefined {
  if (!email.trim()) return undefined;
  return validateRegistrySecret({ server: 'example.com', username: 'u', password: 'p', email: email.trim() }).find((p) => p.field === 'email')?.message;
}

export interface ConnectDraft {
  preset: PresetId;
  server: string;
  username: string;
  secret: string;
  email: string;
}

/**
 * The entry saved for a draft. A known registry's host keeps its own preset whatever was picked.
 * Plain HTTP only for loopback hosts or an explicit http:// address.
 */
export function entryFromDraft(d: ConnectDraft, existing?: RegistryEntry): RegistryEntry {
  const host = serverHost(d.server);
  const owner = PRESETS.find((p) => p.hosts.includes(host));
  const preset = owner ?? presetById(d.preset);
  const explicitHttp = /^http:\/\//i.test(d.server.trim());
  const entry: RegistryEntry = {
    ...(existing ?? {}),
    id: host,
    label: preset.server ? preset.label : host,
    server: host,
    preset: preset.id,
  };
  if (d.username.trim()) entry.username = d.username.trim();
  else delete entry.username;
  if (d.email.trim()) entry.email = d.email.trim();
  else delete entry.email;
  if (explicitHttp || isLoopbackHost(host)) entry.insecureHttp = true;
  return entry;
}
