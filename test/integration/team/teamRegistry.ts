/**
 * Berth started the way a team runs it: `serve --config FILE` with auth, access rules, TLS,
 * limits, proxy or notifications, users added with `berth-registry user add` (password on stdin).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { REGISTRY_CLI, startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { removeDir, tempDir } from '../../support/proc';

const run = promisify(execFile);

export async function registryCli(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const p = run(process.execPath, [REGISTRY_CLI, ...args], { timeout: 60_000 });
  p.child.stdin?.end(input ?? '');
  return p;
}

export interface TeamRegistry extends BerthRegistry {
  dir: string;
  htpasswd: string;
  configPath: string;
}

export interface TeamOptions {
  /** user → password, written with `berth-registry user add`. */
  users?: Record<string, string>;
  /** Everything but `root` and `listen`; `auth.htpasswd.path` is filled in when `auth` is set. */
  config?: Record<string, unknown>;
  args?: string[];
  /** The storage root (default: a folder in the test's temp dir). */
  root?: string;
}

export async function startTeamRegistry(opts: TeamOptions = {}): Promise<TeamRegistry> {
  const dir = tempDir('team');
  const htpasswd = join(dir, 'htpasswd');
  for (const [user, password] of Object.entries(opts.users ?? {})) await registryCli(['user', 'add', user, '--htpasswd', htpasswd], `${password}\n`);
  const config = { ...opts.config };
  if (config['auth']) {
    const auth = config['auth'] as Record<string, unknown>;
    config['auth'] = { ...auth, htpasswd: { realm: 'Berth test', ...(auth['htpasswd'] as object | undefined), path: htpasswd } };
  }
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, stringify(config));
  const registry = await startBerthRegistry({ root: opts.root ?? join(dir, 'data'), args: ['--config', configPath, ...(opts.args ?? [])] });
  return {
    ...registry, dir, htpasswd, configPath,
    async stop() {
      await registry.stop();
      removeDir(dir);
    },
  };
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export interface TokenAnswer {
  token: string;
  refresh_token?: string;
  expires_in: number;
}

/** Docker's classic token request: GET with Basic credentials and the scopes wanted. */
export async function fetchToken(registryUrl: string, scopes: string[], creds?: { user: string; password: string }, extra: Record<string, string> = {}): Promise<{ status: number; body: TokenAnswer }> {
  const url = new URL('/auth/token', registryUrl);
  url.searchParams.set('service', 'berth-registry');
  for (const s of scopes) url.searchParams.append('scope', s);
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  const res = await fetch(url, { headers: creds ? { Authorization: basic(creds.user, creds.password) } : {} });
  return { status: res.status, body: (await res.json()) as TokenAnswer };
}

/** The `errors[0].code` of a registry error body, or undefined. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { errors?: Array<{ code?: string }> }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
