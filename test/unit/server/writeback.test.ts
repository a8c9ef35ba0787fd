/**
 * The filesystem driver's background sync of upload files (fsDriver Writeback), on a stand-in file
 * handle whose datasync the test settles by hand: no disk involved.
 */
import * as assert from 'node:assert/strict';
import { Writeback, type WritebackSlot } from '../../../src/server/storage/fsDriver';

const MiB = 1024 * 1024;

/** A file handle whose datasync calls wait until the test resolves or rejects them. */
class HeldFile {
  readonly syncs: Array<{ resolve(): void; reject(e: Error): void }> = [];
  closed = false;
  datasync(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.syncs.push({ resolve, reject }));
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const settled = (p: Promise<unknown>): Promise<'settled' | 'pending'> =>
  Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);

describe('server storage: background sync of upload files', () => {
  let slot: WritebackSlot;
  beforeEach(() => { slot = { busy: false, started: 0 }; });

  it('starts a sync once 8 MiB are unsynced, and not before', () => {
    const file = new HeldFile();
    const wb = new Writeback(file, slot);
    wb.wrote(8 * MiB - 1);
    assert.equal(file.syncs.length, 0);
    wb.wrote(1);
    assert.equal(file.syncs.length, 1);
    assert.equal(slot.started, 1);
  });

  it('runs one sync per process: a second upload waits for the slot instead of taking another thread', async () => {
    const a = new HeldFile();
    const b = new HeldFile();
    const wa = new Writeback(a, slot);
    const wb = new Writeback(b, slot);
    wa.wrote(8 * MiB);
    wb.wrote(8 * MiB);
    assert.equal(b.syncs.length, 0, 'the slot is taken');
    a.syncs[0]?.resolve();
    await wa.settle();
    wb.wrote(1);
    assert.equal(b.syncs.length, 1, 'the slot is free again');
  });

  it('keeps a failed background sync and throws it at commit, since the kernel reports it only once', async () => {
    const file = new HeldFile();
    const wb = new Writeback(file, slot);
    wb.wrote(8 * MiB);
    file.syncs[0]?.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await assert.rejects(wb.settle(), /EIO/);
    await assert.rejects(wb.settle(), /EIO/, 'still failing on the next commit attempt');
    assert.equal(slot.busy, false);
  });

  it('closes the file only after the sync in flight ends', async () => {
    const file = new HeldFile();
    const wb = new Writeback(file, slot);
    wb.wrote(9 * MiB);
    const closing = wb.close();
    assert.equal(await settled(closing), 'pending');
    assert.equal(file.closed, false);
    file.syncs[0]?.resolve();
    await closing;
    assert.equal(file.closed, true);
  });
});
