/**
 * htpasswd files as `htpasswd -B` writes them (`user:$2y$05$…`, bcrypt only, the one format
 * distribution accepts), read on change so `berth-registry user add` works on a live server.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import type { PasswordCompare } from './passwordChecks';

/** Cost 10 like distribution's tooling; `htpasswd -B` defaults to 5 and both verify alike. */
export const DEFAULT_BCRYPT_COST = 10;

export interface HtpasswdEntry {
  user: string;
  hash: string;
}

const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;
const USER_NAME = /^[^:\s]{1,255}$/;

export function isValidUserName(user: string): boolean {
  return USER_NAME.test(user);
}

export class HtpasswdFormatError extends Error {}

/** Parses the file; lines that are empty or start with `#` are ignored, others must be `user:bcrypt`. */
export function parseHtpasswd(text: string, source = 'htpasswd'): HtpasswdEntry[] {
  const entries: HtpasswdEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = colon > 0 ? line.slice(0, colon) : '';
    const hash = line.slice(colon + 1);
    if (!isValidUserName(user)) throw new HtpasswdFormatError(`${source}:${i + 1}: expected "user:hash"`);
    if (!BCRYPT_HASH.test(hash)) {
      throw new HtpasswdFormatError(`${source}:${i + 1}: the password of "${user}" is not a bcrypt hash; only bcrypt is accepted (write it with \`htpasswd -B\` or \`berth-registry user add\`)`);
    }
    entries.push({ user, hash });
  });
  return entries;
}

export function formatHtpasswd(entries: readonly HtpasswdEntry[]): string {
  return entries.map((e) => `${e.user}:${e.hash}\n`).join('');
}

/** A bcrypt hash in the `$2y$` spelling Apache's htpasswd uses (the same algorithm as `$2b$`). */
export async function hashPassword(password: string, cost = DEFAULT_BCRYPT_COST): Promise<string> {
  const hash = await bcrypt.hash(password, cost);
  return `$2y$${hash.slice(4)}`;
}

/** The cost most of `hashes` use (the higher one on a tie); the default cost for an empty file. */
export function typicalCost(hashes: readonly string[]): number {
  const counts = new Map<number, number>();
  for (const h of hashes) {
    const cost = Number(h.slice(4, 6));
    counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = DEFAULT_BCRYPT_COST;
  let bestCount = 0;
  for (const [cost, count] of counts) {
    if (count > bestCount || (count === bestCount && cost > best)) [best, bestCount] = [cost, count];
  }
  return best;
}

/**
 * The users of one htpasswd file. The file is re-read when its mtime or size changes.
 * Successful checks are remembered (by a hash of user, password and stored hash) so clients
 * that send Basic credentials on every request do not pay a bcrypt each time.
 */
export class HtpasswdFile {
  private users = new Map<string, string>();
  private stamp = '';
  private readonly verified = new Set<string>();
  /**
   * Compared against when the user is unknown, made at the cost the file's users have, so a wrong
   * name takes as long as a wrong password and timing does not tell which names exist.
   */
  private decoy: Promise<string> | undefined;
  private decoyCost = 0;

  /** `compare`: bcrypt on this thread by default; the registry hands in its worker threads' (`PasswordCheckPool`). */
  constructor(readonly path: string, private readonly compare: PasswordCompare = (password, hash) => bcrypt.compare(password, hash)) {
    this.reload();
  }

  /** Throws HtpasswdFormatError or a file error; the server refuses to start on either. */
  reload(): void {
    const st = statSync(this.path);
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (stamp === this.stamp) return;
    this.users = new Map(parseHtpasswd(readFileSync(this.path, 'utf8'), this.path).map((e) => [e.user, e.hash]));
    this.stamp = stamp;
    this.verified.clear();
    const cost = typicalCost([...this.users.values()]);
    if (cost !== this.decoyCost) {
      this.decoyCost = cost;
      this.decoy = hashPassword(randomBytes(18).toString('base64'), cost);
      this.decoy.catch(() => undefined);
    }
  }

  /** The hash an unknown user's password is compared against. */
  decoyHash(): Promise<string> {
    this.refresh();
    return this.decoy as Promise<string>;
  }

  private refresh(): void {
    try {
      this.reload();
    } catch {
      // A half-written or broken file keeps the last good user list rather than locking everyone out.
    }
  }

  has(user: string): boolean {
    this.refresh();
    return this.users.has(user);
  }

  /**
   * A stamp of the user's current password entry, carried in tokens so they die when the password
   * changes or the user is removed. A digest of the bcrypt hash: it says nothing of the password,
   * and cannot be checked against guesses without the hash's salt.
   */
  credentialStamp(user: string): string | undefined {
    this.refresh();
    const hash = this.users.get(user);
    return hash === undefined ? undefined : createHash('sha256').update(`berth-token-credential\0${user}\0${hash}`).digest('base64url').slice(0, 22);
  }

  list(): string[] {
    this.refresh();
    return [...this.users.keys()].sort();
  }

  private rememberKey(user: string, password: string, hash: string): string {
    return createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
  }

  /** Whether these credentials were verified before against the current file: no bcrypt needed. */
  isRemembered(user: string, password: string): boolean {
    this.refresh();
    const hash = this.users.get(user);
    return hash !== undefined && this.verified.has(this.rememberKey(user, password, hash));
  }

  async verify(user: string, password: string): Promise<boolean> {
    if (this.isRemembered(user, password)) return true;
    const hash = this.users.get(user);
    const ok = await this.compare(password, hash ?? (await this.decoyHash()));
    if (ok && hash !== undefined) {
      if (this.verified.size > 1000) this.verified.clear();
      this.verified.add(this.rememberKey(user, password, hash));
      return true;
    }
    return false;
  }
}

export function readHtpasswdFile(path: string): HtpasswdEntry[] {
  return existsSync(path) ? parseHtpasswd(readFileSync(path, 'utf8'), path) : [];
}

/** Writes through a temp file and rename so a running server never reads half a file. */
export function writeHtpasswdFile(path: string, entries: readonly HtpasswdEntry[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, formatHtpasswd(entries), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function upsertEntry(entries: readonly HtpasswdEntry[], entry: HtpasswdEntry): HtpasswdEntry[] {
  const i = entries.findIndex((e) => e.user === entry.user);
  return i < 0 ? [...entries, entry] : entries.map((e, j) => (j === i ? entry : e));
}

/** Constant-time string equality for secrets compared outside bcrypt. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
