/**
 * Real things the credential and engine tests share: a `pass` store with a throwaway GnuPG key for
 * docker-credential-pass, a docker-registry that wants htpasswd logins, and stand-in helper programs
 * that misbehave in the ways real ones do.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDistribution, type Distribution } from '../../support/distribution';
import { removeDir, tempDir } from '../../support/proc';

const run = promisify(execFile);

export interface PassStore {
  /** process.env plus GNUPGHOME and PASSWORD_STORE_DIR pointing into the temp dir. */
  env: NodeJS.ProcessEnv;
  dir: string;
  cleanup(): Promise<void>;
}

/** An initialised `pass` store whose GnuPG key has no passphrase, so nothing ever prompts. */
export async function startPassStore(): Promise<PassStore> {
  const dir = tempDir('pass');
  const gnupgHome = join(dir, 'gnupg');
  mkdirSync(gnupgHome, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...process.env, GNUPGHOME: gnupgHome, PASSWORD_STORE_DIR: join(dir, 'store') };
  await run('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Berth Test <berth-test@example.invalid>', 'default', 'default', 'never'], { env });
  const { stdout } = await run('gpg', ['--list-keys', '--with-colons'], { env });
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)?.[1];
  if (!fingerprint) throw new Error(`no key fingerprint in gpg output:\n${stdout}`);
  await run('pass', ['init', fingerprint], { env });
  return {
    env,
    dir,
    async cleanup() {
      // gpg starts an agent per GNUPGHOME; stop ours so nothing outlives the test.
      await run('gpgconf', ['--kill', 'all'], { env }).catch(() => undefined);
      removeDir(dir);
    },
  };
}

export interface LoginRegistry {
  url: string;
  host: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

export type HtpasswdRegistry = Distribution & LoginRegistry;

/** Writes an htpasswd file with one bcrypt user in a temp dir, starts a registry over it, and removes the dir on stop. */
async function withHtpasswdUser<R extends { stop(): Promise<void> }>(
  username: string, password: string, start: (dir: string, htpasswd: string) => Promise<R>,
): Promise<R & LoginRegistry> {
  const dir = tempDir('htpasswd');
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, `${username}:${bcrypt.hashSync(password, 6)}\n`);
  const registry = await start(dir, htpasswd).catch((e: unknown) => {
    removeDir(dir);
    throw e;
  });
  return {
    ...registry,
    username,
    password,
    async stop() {
      await registry.stop();
      removeDir(dir);
    },
  } as R & LoginRegistry;
}

/** docker-registry with htpasswd auth and one user; the password contains ':' on purpose. */
export function startHtpasswdRegistry(username = 'berth', password = 'pa:ss-word'): Promise<HtpasswdRegistry> {
  return withHtpasswdUser(username, password, (_dir, htpasswd) =>
    startDistribution({ config: { auth: { htpasswd: { realm: 'berth-test', path: htpasswd } } } }));
}

/** The embedded Berth registry with htpasswd users and docker's bearer-token flow (its own token endpoint). */
export function startBerthTokenRegistry(username = 'berth', password = 'to:ken-pass'): Promise<BerthRegistry & LoginRegistry> {
  return withHtpasswdUser(username, password, (dir, htpasswd) => {
    const config = join(dir, 'config.yml');
    writeFileSync(config, stringify({ auth: { htpasswd: { realm: 'berth-test', path: htpasswd }, token: { service: 'berth-test' } } }));
    return startBerthRegistry({ args: ['--config', config] });
  });
}

/**
 * A folder with `docker-credential-<name>` scripts that behave like broken or odd helpers, for PATH.
 * Returns the PATH value to use.
 */
export function fakeHelpersPath(dir: string, scripts: Record<string, string>): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, body] of Object.entries(scripts)) {
    const file = join(bin, `docker-credential-${name}`);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return `${bin}:${process.env['PATH'] ?? ''}`;
}
