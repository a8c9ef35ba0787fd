/**
 * The registry's password check threads, real ones: bcrypt answers as on the event loop, one check per
 * worker at a time, and a worker that dies fails its check with an error and is replaced.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { hashPassword } from '../../../src/server/auth/htpasswd';
import { PasswordCheckPool } from '../../../src/server/auth/passwordChecks';
import { removeDir, tempDir } from '../../support/proc';
import { workerDyingOnce } from '../../support/workerThreads';

describe('password check pool', function () {
  this.timeout(120_000);
  let dir: string;
  let hash: string;
  const pools: PasswordCheckPool[] = [];
  const pool = (...args: ConstructorParameters<typeof PasswordCheckPool>): PasswordCheckPool => {
    const p = new PasswordCheckPool(...args);
    pools.push(p);
    return p;
  };

  before(async () => {
    dir = tempDir('passwords');
    hash = await hashPassword('s3cret', 4);
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  after(() => removeDir(dir));

  it('tells a right password from wrong ones, each check queued for one worker getting its own answer', async function () {
    const p = pool(1);
    const passwords = ['s3cret', 'wrong', '', 's3cret ', 's3cret'];
    assert.deepEqual(await Promise.all(passwords.map((pw) => p.compare(pw, hash))), [true, false, false, false, true]);
    assert.equal(p.workers, 1);
  });

  it('runs checks in up to maxWorkers threads', async function () {
    const p = pool(2);
    assert.deepEqual(await Promise.all(Array.from({ length: 4 }, () => p.compare('s3cret', hash))), [true, true, true, true]);
    assert.equal(p.workers, 2);
  });

  it('fails the check a worker died on with an error, and runs the next one in a fresh worker', async function () {
    // The first worker exits on its first task; the ones after it are the real one.
    const flaky = workerDyingOnce(dir, join(__dirname, '../../../src/server/auth/passwordWorker.ts'));
    const p = pool(1, flaky);
    await assert.rejects(p.compare('s3cret', hash), /password check thread stopped: exited with code 3/);
    assert.equal(p.workers, 0, 'the dead worker is gone');
    assert.equal(await p.compare('s3cret', hash), true);
    assert.equal(p.workers, 1);
  });

  it('refuses checks after close', async function () {
    const p = pool(1);
    assert.equal(await p.compare('s3cret', hash), true);
    await p.close();
    assert.equal(p.workers, 0);
    await assert.rejects(p.compare('s3cret', hash), /shutting down/);
  });
});
