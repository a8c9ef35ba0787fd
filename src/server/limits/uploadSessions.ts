/**
 * Open upload sessions, bounded: at most `maxOpenUploads` in all and `maxOpenUploadsPerUser` per user
 * (429 beyond), and a session nobody has stored a byte in nor touched here for `uploadIdleTimeoutMs` is
 * removed. Without this, every POST that is never finished holds memory and a folder until the
 * age-based purge. A storage wrapper, so the registry's own uploads (pull-through cache fills) are
 * counted too.
 *
 * Several processes may serve one bucket, and a client may continue a session on another process
 * than the one it started on (a load balancer, a restart): idleness is decided by when the storage
 * last took a byte for the session (any process's write), never by this process's memory alone; the
 * sessions this process never saw (started elsewhere, or by a process that died) are swept from the
 * storage once per idle timeout. The counts behind the limits are this process's.
 */
import type { Readable } from 'node:stream';
import type { ParsedDigest } from '../../oci/digest';
import { RegistryError } from '../errors';
import type { BlobInfo, Storage, UploadStatus } from '../storage';
import { overrideStorage } from './forwardStorage';

export interface UploadSessionLimits {
  maxOpenUploads: number;
  maxOpenUploadsPerUser: number;
  uploadIdleTimeoutMs: number;
}

interface Session {
  repository: string;
  id: string;
  /** '' for anonymous sessions. */
  owner: string;
  lastActiveMs: number;
  /** Requests streaming into the session right now; a streaming session is never idle. */
  streaming: number;
}

const ANONYMOUS = '';

export class UploadSessions {
  private readonly open = new Map<string, Session>();
  private readonly perOwner = new Map<string, number>();
  private inner: Storage | undefined;
  /** When the storage was last swept for idle sessions this process does not know. */
  private lastSweepMs: number;

  constructor(private readonly limits: UploadSessionLimits, private readonly nowMs: () => number = Date.now) {
    this.lastSweepMs = nowMs();
  }

  get count(): number {
    return this.open.size;
  }

  private key(repository: string, id: string): string {
    return `${repository}\0${id}`;
  }

  private add(s: Session): void {
    const key = this.key(s.repository, s.id);
    if (this.open.has(key)) return;
    this.open.set(key, s);
    this.perOwner.set(s.owner, (this.perOwner.get(s.owner) ?? 0) + 1);
  }

  private remove(repository: string, id: string): void {
    const key = this.key(repository, id);
    const s = this.open.get(key);
    if (!s) return;
    this.open.delete(key);
    const left = (this.perOwner.get(s.owner) ?? 1) - 1;
    if (left > 0) this.perOwner.set(s.owner, left);
    else this.perOwner.delete(s.owner);
  }

  private checkRoom(owner: string): void {
    const { maxOpenUploads, maxOpenUploadsPerUser } = this.limits;
    if ((this.perOwner.get(owner) ?? 0) >= maxOpenUploadsPerUser) {
      throw new RegistryError('TOOMANYREQUESTS', `${owner === ANONYMOUS ? 'anonymous clients have' : `user ${owner} has`} ${maxOpenUploadsPerUser} upload sessions open, the most one user may keep (limits.maxOpenUploadsPerUser); finish or cancel some, or wait until idle ones are removed (limits.uploadIdleTimeout)`,
        { limit: maxOpenUploadsPerUser }, 429, { 'Retry-After': '60' });
    }
    if (this.open.size >= maxOpenUploads) {
      throw new RegistryError('TOOMANYREQUESTS', `${maxOpenUploads} upload sessions are open, the most this registry keeps (limits.maxOpenUploads); retry once uploads finish or idle ones are removed (limits.uploadIdleTimeout)`,
        { limit: maxOpenUploads }, 429, { 'Retry-After': '60' });
    }
  }

  /** The session, adopting one started before a restart (so it is counted and can go idle). */
  private async touch(inner: Storage, repository: string, id: string): Promise<Session | undefined> {
    const known = this.open.get(this.key(repository, id));
    if (known) {
      known.lastActiveMs = this.nowMs();
      return known;
    }
    const status = await inner.uploadStatus(repository, id);
    if (!status) return undefined;
    const s: Session = { repository, id, owner: status.owner ?? ANONYMOUS, lastActiveMs: this.nowMs(), streaming: 0 };
    this.add(s);
    return s;
  }

  wrap(inner: Storage): Storage {
    this.inner = inner;
    const streaming = async <T>(repository: string, id: string, finishes: boolean, run: () => Promise<T>): Promise<T> => {
      const s = await this.touch(inner, repository, id);
      if (s) s.streaming++;
      let ok = false;
      try {
        const result = await run();
        ok = true;
        return result;
      } finally {
        if (s) {
          s.streaming--;
          s.lastActiveMs = this.nowMs();
          // A finished upload is gone; a failed digest check or a size limit may remove one underneath.
          if (finishes && ok) this.remove(repository, id);
          else if (!ok && !(await inner.uploadStatus(repository, id).catch(() => undefined))) this.remove(repository, id);
        }
      }
    };
    return overrideStorage(inner, {
      startUpload: async (repository: string, owner?: string): Promise<UploadStatus> => {
        const who = owner ?? ANONYMOUS;
        this.checkRoom(who);
        const status = await inner.startUpload(repository, owner);
        this.add({ repository, id: status.id, owner: who, lastActiveMs: this.nowMs(), streaming: 0 });
        return status;
      },
      uploadStatus: async (repository: string, id: string): Promise<UploadStatus | undefined> => {
        const status = await inner.uploadStatus(repository, id);
        const s = status && this.open.get(this.key(repository, id));
        if (s) s.lastActiveMs = this.nowMs();
        return status;
      },
      appendUpload: (repository: string, id: string, body: Readable, start?: number): Promise<UploadStatus> =>
        streaming(repository, id, false, () => inner.appendUpload(repository, id, body, start)),
      finishUpload: (repository: string, id: string, digest: ParsedDigest, body?: Readable, start?: number): Promise<BlobInfo> =>
        streaming(repository, id, true, () => inner.finishUpload(repository, id, digest, body, start)),
      cancelUpload: async (repository: string, id: string): Promise<boolean> => {
        this.remove(repository, id);
        return inner.cancelUpload(repository, id);
      },
    });
  }

  /**
   * Removes the session when the storage, too, has had no byte for it since `cutoffMs`; true when it
   * did. A session finished or removed by another process is forgotten without counting.
   */
  private async removeIfIdle(inner: Storage, repository: string, id: string, cutoffMs: number): Promise<boolean> {
    const status = await inner.uploadStatus(repository, id).catch(() => undefined);
    const known = this.open.get(this.key(repository, id));
    if (!status) {
      this.remove(repository, id);
      return false;
    }
    if ((status.lastWriteMs ?? 0) >= cutoffMs) {
      if (known) known.lastActiveMs = Math.max(known.lastActiveMs, status.lastWriteMs ?? 0);
      return false;
    }
    this.remove(repository, id);
    await inner.cancelUpload(repository, id).catch(() => false);
    return true;
  }

  /** Removes the sessions idle for longer than the limit; returns how many. */
  async purgeIdle(): Promise<number> {
    const inner = this.inner;
    if (!inner) return 0;
    const now = this.nowMs();
    const cutoff = now - this.limits.uploadIdleTimeoutMs;
    let removed = 0;
    const idle = [...this.open.values()].filter((s) => s.streaming === 0 && s.lastActiveMs < cutoff);
    for (const s of idle) if (await this.removeIfIdle(inner, s.repository, s.id, cutoff)) removed++;
    if (now - this.lastSweepMs >= this.limits.uploadIdleTimeoutMs) {
      this.lastSweepMs = now;
      for (const u of await inner.listUploads()) {
        if (this.open.has(this.key(u.repository, u.id))) continue;
        if (await this.removeIfIdle(inner, u.repository, u.id, cutoff)) removed++;
      }
    }
    return removed;
  }
}
