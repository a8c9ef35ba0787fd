/**
 * `berth-registry cert` as a user runs it: the served certificate is a leaf (not a CA anyone could sign
 * with), the CA that signed it is written beside it, and the key is never written through a symlink.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '../../support/proc';
import { registryCli, startTeamRegistry } from './teamRegistry';

const openssl = (args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });

describe('berth-registry cert', function () {
  let dir: string;
  before(async function () {
    dir = tempDir('cert-leaf');
    await registryCli(['cert', '--host', 'registry.test', '--host', '127.0.0.1', '--out', dir]);
  });
  after(function () {
    if (dir) removeDir(dir);
  });

  it('writes a leaf certificate: CA:FALSE, digitalSignature and keyEncipherment, serverAuth, SAN the named hosts only', function () {
    const text = openssl(['x509', '-in', join(dir, 'registry.test.crt'), '-noout', '-text']);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\s/);
    assert.doesNotMatch(text, /Certificate Sign/);
    assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication\s/);
    const san = /X509v3 Subject Alternative Name:\s*\n\s*(.*)/.exec(text)?.[1]?.trim();
    assert.equal(san, 'DNS:registry.test, IP Address:127.0.0.1');
  });

  it('writes the CA that signed it, and openssl verifies the leaf for serverAuth against it alone', function () {
    const caText = openssl(['x509', '-in', join(dir, 'registry.test-ca.crt'), '-noout', '-text']);
    assert.match(caText, /CA:TRUE, pathlen:0/);
    const out = openssl(['verify', '-purpose', 'sslserver', '-x509_strict', '-CAfile', join(dir, 'registry.test-ca.crt'), join(dir, 'registry.test.crt')]);
    assert.match(out, /: OK/);
    assert.equal(statSync(join(dir, 'registry.test.key')).mode & 0o777, 0o600);
  });

  it('serves the leaf over TLS, verified by curl with the CA file for the IP it names', async function () {
    const reg = await startTeamRegistry({ config: { tls: { certificate: join(dir, 'registry.test.crt'), key: join(dir, 'registry.test.key') } } });
    try {
      const res = execFileSync('curl', ['-sS', '--cacert', join(dir, 'registry.test-ca.crt'), '-o', '/dev/null', '-w', '%{http_code}', `${reg.url}/v2/`], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(res, '200');
    } finally {
      await reg.stop();
    }
  });

  it('refuses to write the key through a symlink planted at its path, naming the path, and leaves the target alone', async function () {
    const out = tempDir('cert-link');
    try {
      const victim = join(out, 'victim.txt');
      writeFileSync(victim, 'keep me\n');
      symlinkSync(victim, join(out, 'registry.test.key'));
      const err = await registryCli(['cert', '--host', 'registry.test', '--out', out]).then(() => undefined, (e: { stderr: string; code: number }) => e);
      assert.ok(err, 'cert succeeded through a symlink');
      assert.match(err.stderr, new RegExp(`${join(out, 'registry.test.key').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is a symbolic link`));
      assert.doesNotMatch(err.stderr, /^\s+at /m, 'no stack trace');
      assert.equal(readFileSync(victim, 'utf8'), 'keep me\n');
      assert.ok(lstatSync(join(out, 'registry.test.key')).isSymbolicLink());
      assert.ok(!existsSync(join(out, 'registry.test.crt')), 'no certificate without its key');
    } finally {
      removeDir(out);
    }
  });

  it('refuses to overwrite an existing key, saying so', async function () {
    const err = await registryCli(['cert', '--host', 'registry.test', '--out', dir]).then(() => undefined, (e: { stderr: string }) => e);
    assert.ok(err);
    assert.match(err.stderr, /registry\.test\.key already exists/);
  });
});
