/**
 * `berth-registry user add|remove|list`, and htpasswd files shared with Apache's `htpasswd -B`
 * (Debian's apache2-utils) in both directions.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { HtpasswdFile } from '../../../src/server/auth/htpasswd';
import { REGISTRY_CLI } from '../../support/berthRegistry';
import { removeDir, tempDir } from '../../support/proc';
import { basic, registryCli, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const run = promisify(execFile);

describe('berth-registry user', function () {
  let dir: string;
  before(function () {
    dir = tempDir('users');
  });
  after(function () {
    removeDir(dir);
  });

  it('adds, lists, changes and removes users in a private (0600) file', async function () {
    const file = join(dir, 'htpasswd');
    assert.match((await registryCli(['user', 'add', 'zoe', '--htpasswd', file], 'first-pw\n')).stdout, /added zoe .*\(new file\)/);
    await registryCli(['user', 'add', 'yann', '--htpasswd', file], 'yann-pw\n');
    assert.equal((await registryCli(['user', 'list', '--htpasswd', file])).stdout, 'zoe\nyann\n');
    assert.match((await registryCli(['user', 'add', 'zoe', '--htpasswd', file], 'second-pw\n')).stdout, /changed the password of zoe/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match((await registryCli(['user', 'remove', 'yann', '--htpasswd', file])).stdout, /removed yann/);
    assert.equal((await registryCli(['user', 'list', '--htpasswd', file])).stdout, 'zoe\n');
    assert.match(readFileSync(file, 'utf8'), /^zoe:\$2y\$10\$[./A-Za-z0-9]{53}\n$/);
  });

  const refusals: Array<{ args: string[]; input?: string; message: RegExp }> = [
    { args: ['user', 'add', 'x', '--htpasswd', 'F', '--password', 'secret'], message: /not taken on the command line/ },
    { args: ['user', 'add', 'a:b', '--htpasswd', 'F'], input: 'pw\n', message: /not a valid user name/ },
    { args: ['user', 'add', 'x'], input: 'pw\n', message: /--htpasswd FILE is required/ },
    { args: ['user', 'add', 'x', '--htpasswd', 'F'], input: '\n', message: /the password is empty/ },
    { args: ['user', 'remove', 'nobody', '--htpasswd', 'F'], message: /no user "nobody"/ },
  ];
  for (const { args, input, message } of refusals) {
    it(`refuses \`${args.join(' ')}\` with exit code 2 and a reason`, async function () {
      const withFile = args.map((a) => (a === 'F' ? join(dir, 'refusals') : a));
      const err = await registryCli(withFile, input).then(() => undefined, (e: { code: number; stderr: string }) => e);
      assert.ok(err, 'the command succeeded');
      assert.equal(err.code, 2);
      assert.match(err.stderr, message);
    });
  }

  it('compares an unknown user against a decoy as costly as the users Apache htpasswd -B wrote', async function () {
    // htpasswd -B writes cost 5; a fixed cost-10 decoy made unknown names 12 times slower to refuse.
    const file = join(dir, 'cost-5');
    await run('htpasswd', ['-cbB', file, 'ana', 'ana-pw']);
    await run('htpasswd', ['-bB', file, 'ben', 'ben-pw']);
    const users = new HtpasswdFile(file);
    assert.equal(bcrypt.getRounds(await users.decoyHash()), 5);
    assert.equal(await users.verify('nobody', 'ana-pw'), false);
    await run('htpasswd', ['-bB', '-C', '12', file, 'ana', 'ana-pw']);
    await run('htpasswd', ['-bB', '-C', '12', file, 'ben', 'ben-pw']);
    assert.equal(bcrypt.getRounds(await users.decoyHash()), 12, 'made again when the file changes');
  });

  it('writes hashes Apache htpasswd verifies', async function () {
    const file = join(dir, 'for-apache');
    await registryCli(['user', 'add', 'ana', '--htpasswd', file], 'ana-pw\n');
    await run('htpasswd', ['-vb', file, 'ana', 'ana-pw']);
    await assert.rejects(run('htpasswd', ['-vb', file, 'ana', 'wrong']));
  });
});

describe('a registry reading a file written by Apache htpasswd -B', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({ users: { placeholder: 'x' }, config: { auth: {} } });
    const { stdout } = await run('htpasswd', ['-nbB', 'apache-user', 'apache-pw']);
    writeFileSync(reg.htpasswd, stdout);
  });
  after(async function () {
    await reg?.stop();
  });

  it('accepts its user (reloading the changed file) and refuses a wrong password', async function () {
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic('apache-user', 'apache-pw') } })).status, 200);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic('apache-user', 'nope') } })).status, 401);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic('placeholder', 'x') } })).status, 401, 'the replaced user is gone');
  });
});

describe('a registry whose htpasswd file cannot be used', function () {
  const cases: Array<{ what: string; content: string | undefined; message: RegExp }> = [
    { what: 'is missing', content: undefined, message: /config: auth\.htpasswd\.path: .*htpasswd does not exist; create it with `berth-registry user add NAME --htpasswd/ },
    { what: 'holds a non-bcrypt password', content: 'old:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n', message: /config: auth: .*htpasswd:1: the password of "old" is not a bcrypt hash/ },
  ];
  for (const c of cases) {
    it(`refuses to start when the file ${c.what}, with exit code 2`, async function () {
      const dir = tempDir('bad-htpasswd');
      try {
        const file = join(dir, 'htpasswd');
        if (c.content !== undefined) writeFileSync(file, c.content);
        writeFileSync(join(dir, 'config.yml'), `auth: {htpasswd: {path: ${file}}}\n`);
        const r = await run(process.execPath, [REGISTRY_CLI, 'serve', '--listen', '127.0.0.1:0', '--root', join(dir, 'data'), '--config', join(dir, 'config.yml')])
          .then(() => undefined, (e: { code: number; stderr: string }) => e);
        assert.ok(r, 'the server started');
        assert.equal(r.code, 2);
        assert.match(r.stderr, c.message);
      } finally {
        removeDir(dir);
      }
    });
  }
});
