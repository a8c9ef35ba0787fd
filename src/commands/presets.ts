/** Connect-a-registry presets and the validation of what a person types. */
import { serverHost } from '../credentials/servers';
import { validateRegistrySecret } from '../credentials/registrySecret';
export { serverProblem } from '../credentials/registrySecret';
import type { PresetId, RegistryEntry } from '../views/registryEntry';

export interface Preset {
  id: PresetId;
  label: string;
  /** Fixed server, or undefined when the person types it. */
  server?: string;
  usernamePrompt: string;
  secretPrompt: string;
  detail: string;
}

export const PRESETS: readonly Preset[] = [
  { id: 'dockerhub', label: 'Docker Hub', server: 'docker.io', usernamePrompt: 'Docker ID', secretPrompt: 'Password or personal access token', detail: 'docker.io' },
  { id: 'ghcr', label: 'GitHub Container Registry', server: 'ghcr.io', usernamePrompt: 'GitHub user name', secretPrompt: 'Personal access token (classic) with read:packages', detail: 'ghcr.io' },
  { id: 'quay', label: 'Quay', server: 'quay.io', usernamePrompt: 'Quay user name or robot account', secretPrompt: 'Password or robot token', detail: 'quay.io' },
  { id: 'gitlab', label: 'GitLab Container Registry', usernamePrompt: 'GitLab user name', secretPrompt: 'Personal or deploy token with read_registry', detail: 'registry.gitlab.com or your instance' },
  { id: 'generic', label: 'Other registry (OCI / Docker V2)', usernamePrompt: 'User name (empty for anonymous)', secretPrompt: 'Password or token', detail: 'Harbor, registry:2, Nexus, Artifactory…' },
  { id: 'local', label: 'A registry on this machine', usernamePrompt: 'User name (empty for anonymous)', secretPrompt: 'Password or token', detail: 'localhost:PORT over plain HTTP' },
];

export function presetById(id: PresetId): Preset {
  const p = PRESETS.find((x) => x.id === id);
  if (!p) throw new Error(`unknown preset ${id}`);
  return p;
}

/** Why an optional e-mail is not one (the credentials layer owns the rule). */
export function emailProblem(email: string): string | undefined {
  if (!email.trim()) return undefined;
  return validateRegistrySecret({ server: 'example.com', username: 'u', password: 'p', email: email.trim() }).find((p) => p.field === 'email')?.message;
}

export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\./.test(name);
}

export interface ConnectDraft {
  preset: PresetId;
  server: string;
  username: string;
  secret: string;
  email: string;
}

/** The entry saved for a draft. Plain HTTP only for loopback hosts or an explicit http:// address. */
export function entryFromDraft(d: ConnectDraft, existing?: RegistryEntry): RegistryEntry {
  const host = serverHost(d.server);
  const preset = PRESETS.find((p) => p.id === d.preset);
  const explicitHttp = /^http:\/\//i.test(d.server.trim());
  const entry: RegistryEntry = {
    ...(existing ?? {}),
    id: host,
    label: preset?.server ? preset.label : host,
    server: host,
    preset: d.preset,
  };
  if (d.username.trim()) entry.username = d.username.trim();
  else delete entry.username;
  if (d.email.trim()) entry.email = d.email.trim();
  else delete entry.email;
  if (explicitHttp || isLoopback(host)) entry.insecureHttp = true;
  return entry;
}
