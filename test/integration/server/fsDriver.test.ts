/**
 * The filesystem driver keeps a closed writer's file open for the next append (a chunked upload then
 * opens its file once): an append after any call that replaced, moved or removed the path must see
 * the file that is there now, never write into the old one through a kept handle.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { FsDriver } from '../../../src/server/storage';
import { isPathNotFound } from '../../../src/server/storage/driver';
import { removeDir, tempDir } from '../../support/proc';

const DATA = '/docker/registry/v2/repositories/a/_uploads/u1/data';
const UPLOAD_DIR = '/docker/registry/v2/repositories/a/_uploads/u1';
const BLOB = '/docker/registry/v2/blobs/sha256/ab/abcd/data';

async function append(driver: FsDriver, path: string, text: string): Promise<number> {
  const w = await driver.writer(path, true);
  await w.write(Readable.from([Buffer.from(text)]));
  await w.close();
  return w.size;
}

/** A file at DATA holding `first`, its writer closed (so parked). */
async function parkedFile(driver: FsDriver, first: string): Promise<void> {
  await (await driver.writer(DATA, false)).close();
  await append(driver, DATA, first);
  assert.equal(driver.parkedWriters, 1, 'a closed writer keeps its file open');
}

describe('filesystem driver: appends through a kept-open file', function () {
  let root: string;
  let driver: FsDriver;

  beforeEach(async () => {
    root = tempDir('fsdriver');
    driver = new FsDriver(root);
    await driver.init();
  });

  afterEach(async () => {
    await driver.close();
    removeDir(root);
  });

  it('appends of successive writers land one after the other and each writer starts at the size so far', async () => {
    await parkedFile(driver, 'one,');
    assert.equal(await append(driver, DATA, 'two,'), 8);
    assert.equal(await append(driver, DATA, 'three'), 13);
    assert.equal(readFileSync(driver.fullPath(DATA), 'utf8'), 'one,two,three');
    assert.equal((await driver.stat(DATA)).size, 13);
  });

  const invalidations: { name: string; change: (d: FsDriver) => Promise<void>; after: (d: FsDriver) => Promise<void> }[] = [
    {
      name: 'deleting the folder holding the file makes the next append fail as path not found',
      change: (d) => d.delete(UPLOAD_DIR),
      after: async (d) => {
        await assert.rejects(d.writer(DATA, true), (e: unknown) => isPathNotFound(e));
      },
    },
    {
      name: 'moving the file away makes the next append fail as path not found and leaves the moved file unchanged',
      change: (d) => d.move(DATA, BLOB),
      after: async (d) => {
        await assert.rejects(d.writer(DATA, true), (e: unknown) => isPathNotFound(e));
        assert.equal(readFileSync(d.fullPath(BLOB), 'utf8'), 'one,');
      },
    },
    {
      name: 'replacing the file with putContent makes the next append continue the new content',
      change: (d) => d.putContent(DATA, 'replaced,'),
      after: async (d) => {
        assert.equal(await append(d, DATA, 'more'), 13);
        assert.equal(readFileSync(d.fullPath(DATA), 'utf8'), 'replaced,more');
      },
    },
    {
      name: 'opening the file anew (not appending) truncates it and the next append starts at 0',
      change: async (d) => (await d.writer(DATA, false)).close(),
      after: async (d) => {
        assert.equal(await append(d, DATA, 'fresh'), 5);
        assert.equal(readFileSync(d.fullPath(DATA), 'utf8'), 'fresh');
      },
    },
  ];
  for (const c of invalidations) {
    it(c.name, async () => {
      await parkedFile(driver, 'one,');
      await c.change(driver);
      await c.after(driver);
    });
  }

  it('a writer whose body failed is closed, not kept, and the next append starts at what the file holds', async () => {
    await parkedFile(driver, 'one,');
    const w = await driver.writer(DATA, true);
    const failing = new Readable({
      read() {
        this.push(Buffer.from('part'));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(w.write(failing), /client went away/);
    await w.close();
    assert.equal(driver.parkedWriters, 0);
    const w2 = await driver.writer(DATA, true);
    assert.equal(w2.size, (await driver.stat(DATA)).size);
    await w2.close();
  });

  it('committing and cancelling close the file for good', async () => {
    await parkedFile(driver, 'one,');
    await (await driver.writer(DATA, true)).commit();
    assert.equal(driver.parkedWriters, 0);
    await append(driver, DATA, 'two');
    await (await driver.writer(DATA, true)).cancel();
    assert.equal(driver.parkedWriters, 0);
    await assert.rejects(driver.stat(DATA), (e: unknown) => isPathNotFound(e));
  });

  it('keeps at most 64 files open, closing the least recently used', async () => {
    for (let i = 0; i < 70; i++) await (await driver.writer(`/docker/registry/v2/repositories/a/_uploads/u${i}/data`, false)).close();
    assert.equal(driver.parkedWriters, 64);
    // The oldest one was closed and is opened again from the file.
    assert.equal(await append(driver, '/docker/registry/v2/repositories/a/_uploads/u0/data', 'x'), 1);
  });
});
