/**
 * One writer per storage root: a lock file (`<root>/.berth/lock`) holding the owner's pid. A lock
 * left by a process that is gone (kill -9) is taken over; a live owner makes the caller refuse.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class LockedError extends Error {
  constructor(readonly root: string, readonly pid: number, readonly purpose: string) {
    super(`the registry root ${root} is in use by a running ${purpose || 'process'} (pid ${pid}); stop it first`);
  }
}

export interface RootLock {
  path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLockOwner(path: string): { pid: number; purpose: string } | undefined {
  try {
    const [pid = '', purpose = ''] = readLockText(path).split('\n');
    return { pid: Number(pid.trim()), purpose: purpose.trim() };
  } catch {
    return undefined;
  }
}

/** A lock taken on a full disk is a symlink whose target holds the text (no data block needed). */
function readLockText(path: string): string {
  try {
    return readlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    return readFileSync(path, 'utf8');
  }
}

function isOutOfSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Creates the lock holding `text`, or throws EEXIST. A full disk has no block for the file's
 * bytes, but a short symlink keeps its target in the inode, so the registry can still start and
 * serve reads there.
 */
function createLock(path: string, text: string): void {
  const fd = openSync(path, 'wx');
  try {
    writeSync(fd, text);
  } catch (e) {
    closeSync(fd);
    rmSync(path, { force: true });
    if (!isOutOfSpace(e)) throw e;
    symlinkSync(text, path);
    return;
  }
  closeSync(fd);
}

/** Takes the lock of `root` for `purpose` (`server`, `gc`), or throws `LockedError`. */
export function acquireRootLock(root: string, path: string, purpose: string): RootLock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      createLock(path, `${process.pid}\n${purpose}\n`);
      return {
        path,
        release() {
          if (readLockOwner(path)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readLockOwner(path);
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) throw new LockedError(root, owner.pid, owner.purpose);
      // Stale (its owner is gone) or unreadable half-written: take it over.
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}; another process keeps recreating it`);
}
