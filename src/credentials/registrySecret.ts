/**
 * The docker-registry secret: a server, a username, a password and an optional email, as
 * `kubectl create secret docker-registry` takes them, validated, named, and rendered as a
 * Kubernetes `kubernetes.io/dockerconfigjson` Secret a cluster can pull with.
 */
import { configKeyFor, serverHost } from './servers';

export interface DockerRegistrySecret {
  server: string;
  username: string;
  password: string;
  email?: string;
}

export type SecretField = keyof DockerRegistrySecret | 'name' | 'namespace';

export interface ValidationProblem {
  field: SecretField;
  message: string;
}

export const MAX_SECRET_NAME_LENGTH = 253;
export const MAX_NAMESPACE_LENGTH = 63;
// Kubernetes names most objects, Secrets included, as DNS subdomains (RFC 1123): dot-separated labels.
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const HOST_PORT = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;
// Deliberately loose: a registry never checks it, and a person's address may be anything with one '@'.
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Why `server` is not a registry address, or undefined when it is one. */
export function serverProblem(server: string): string | undefined {
  const s = server.trim();
  if (!s) return 'Enter the registry server, e.g. ghcr.io or localhost:5000.';
  if (/\s/.test(s)) return `"${s}" contains whitespace: enter only the registry host, e.g. ghcr.io.`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme && !/^https?$/i.test(scheme[1] ?? '')) return `"${s}" starts with ${scheme[1]}://: a registry is reached over https:// or http://.`;
  const host = serverHost(s);
  const m = HOST_PORT.exec(host);
  if (!m) return `"${s}" is not a host name: use host or host:port, e.g. registry.example.com:5000.`;
  if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) return `Port ${m[1]} in "${s}" is out of range: use 1-65535.`;
  return undefined;
}

/** Every problem with a secret, each tied to the field a form should mark. */
export function validateRegistrySecret(secret: DockerRegistrySecret): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const server = serverProblem(secret.server);
  if (server) problems.push({ field: 'server', message: server });
  if (!secret.username) problems.push({ field: 'username', message: 'Enter the username (for token-only registries, the name the token belongs to).' });
  else if (secret.username.includes(':')) problems.push({ field: 'username', message: 'A username cannot contain ":": registries read everything after the first ":" as the password.' });
  else if (secret.username.trim() !== secret.username) problems.push({ field: 'username', message: 'The username starts or ends with a space: remove it.' });
  if (!secret.password) problems.push({ field: 'password', message: 'Enter the password or access token.' });
  else if (/[\r\n]/.test(secret.password)) problems.push({ field: 'password', message: 'The password contains a line break, usually from pasting: paste it again without the newline.' });
  if (secret.email !== undefined && secret.email !== '' && !EMAIL.test(secret.email)) {
    problems.push({ field: 'email', message: `"${secret.email}" is not an email address: leave it empty or use name@example.com.` });
  }
  return problems;
}

/** Why `name` cannot name a Secret (a DNS subdomain: `regcred`, `ghcr.io`, `team.pull-1`), or undefined when it can. */
export function secretNameProblem(name: string): string | undefined {
  if (!name) return 'Enter a name for the secret.';
  if (name.length > MAX_SECRET_NAME_LENGTH) return `The name is ${name.length} characters long: at most ${MAX_SECRET_NAME_LENGTH} are allowed.`;
  if (/[A-Z]/.test(name)) return 'Use lowercase letters only.';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'Use only lowercase letters, digits, "-" and ".".';
  const bad = name.split('.').find((label) => !DNS_LABEL.test(label));
  if (bad !== undefined) {
    return bad === '' ? 'Do not start or end the name with ".", or put two dots together.' : `Start and end the name, and each part between dots ("${bad}"), with a letter or digit.`;
  }
  return undefined;
}

/** Why `namespace` cannot name a Kubernetes namespace (a DNS label: no dots, at most 63 characters), or undefined. */
export function namespaceProblem(namespace: string): string | undefined {
  if (!namespace) return 'Enter a namespace, or leave it out to use the current one.';
  if (namespace.length > MAX_NAMESPACE_LENGTH) return `The namespace is ${namespace.length} characters long: at most ${MAX_NAMESPACE_LENGTH} are allowed.`;
  if (/[A-Z]/.test(namespace)) return 'Use lowercase letters only.';
  if (!/^[a-z0-9-]+$/.test(namespace)) return 'A namespace takes only lowercase letters, digits and "-" (no ".").';
  if (!DNS_LABEL.test(namespace)) return 'Start and end the namespace with a letter or digit.';
  return undefined;
}

export function isValidSecretName(name: string): boolean {
  return secretNameProblem(name) === undefined;
}

/** A valid secret name for a registry: `ghcr.io` → `ghcr-io`, `localhost:5000` → `localhost-5000`. */
export function suggestSecretName(server: string): string {
  const name = serverHost(server)
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_SECRET_NAME_LENGTH)
    .replace(/^-+|-+$/g, '');
  return name || 'registry-credentials';
}

/** The `.dockerconfigjson` document: {"auths":{server:{username,password,email,auth}}}. */
export function dockerConfigJson(secret: DockerRegistrySecret): string {
  const entry: Record<string, string> = { username: secret.username, password: secret.password };
  if (secret.email) entry['email'] = secret.email;
  entry['auth'] = Buffer.from(`${secret.username}:${secret.password}`).toString('base64');
  return JSON.stringify({ auths: { [configKeyFor(secret.server)]: entry } });
}

export class InvalidRegistrySecretError extends Error {
  override readonly name = 'InvalidRegistrySecretError';
  constructor(readonly problems: ValidationProblem[]) {
    super(problems.map((p) => p.message).join(' '));
  }
}

/**
 * A Kubernetes Secret of type `kubernetes.io/dockerconfigjson` as YAML, ready for `kubectl apply -f -`.
 * Rejects with InvalidRegistrySecretError listing every problem when the secret or the name is not valid.
 * Async because the `yaml` package is loaded on first use: it would otherwise cost the extension's
 * activation tens of milliseconds for a command few people run.
 */
export async function kubernetesPullSecretYaml(secret: DockerRegistrySecret, options: { name?: string; namespace?: string } = {}): Promise<string> {
  const name = options.name ?? suggestSecretName(secret.server);
  const problems = validateRegistrySecret(secret);
  const nameProblem = secretNameProblem(name);
  if (nameProblem) problems.push({ field: 'name', message: nameProblem });
  if (options.namespace !== undefined) {
    const nsProblem = namespaceProblem(options.namespace);
    if (nsProblem) problems.push({ field: 'namespace', message: `Namespace "${options.namespace}": ${nsProblem}` });
  }
  if (problems.length) throw new InvalidRegistrySecretError(problems);
  const metadata: Record<string, string> = { name };
  if (options.namespace !== undefined) metadata['namespace'] = options.namespace;
  const { stringify } = await import('yaml');
  return stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(dockerConfigJson(secret)).toString('base64') },
  });
}
