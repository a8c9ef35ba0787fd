import * as assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { generateSelfSignedCert, trustInstructions } from '../../../src/server/tls/cert';
import { expiryWarning } from '../../../src/server/tls/serverFactory';

describe('tls: self-signed certificate', () => {
  let cert: X509Certificate;
  let keyPem: string;
  let ca: X509Certificate;
  before(async () => {
    const g = await generateSelfSignedCert({ hosts: ['registry.test'], validDays: 30, now: new Date('2030-01-01T00:00:00Z') });
    cert = new X509Certificate(g.certPem);
    ca = new X509Certificate(g.caPem);
    keyPem = g.keyPem;
    assert.equal(g.fingerprint, cert.fingerprint256);
  });

  it('is a leaf signed by a separate CA, so installing the CA as ca.crt trusts it', () => {
    assert.equal(cert.ca, false);
    assert.equal(ca.ca, true);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.subject.includes('CN=registry.test'), true);
  });

  const names: Array<{ check: 'host' | 'ip'; name: string; ok: boolean }> = [
    { check: 'host', name: 'registry.test', ok: true },
    { check: 'host', name: 'localhost', ok: false },
    { check: 'ip', name: '127.0.0.1', ok: false },
    { check: 'host', name: 'other.test', ok: false },
    { check: 'ip', name: '10.0.0.1', ok: false },
  ];
  for (const { check, name, ok } of names) {
    it(`${ok ? 'names' : 'does not name'} ${name} in its SAN`, () => {
      const matched = check === 'host' ? cert.checkHost(name) : cert.checkIP(name);
      assert.equal(matched !== undefined, ok);
    });
  }

  it('is valid for the requested days from the given start', () => {
    assert.equal(new Date(cert.validTo).toISOString().slice(0, 10), '2030-01-31');
  });

  it('comes with the matching private key in PKCS#8 PEM', () => {
    const key = createPrivateKey(keyPem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(createPublicKey(key).export({ format: 'jwk' }).x, cert.publicKey.export({ format: 'jwk' }).x);
  });

  it('tells how to trust it for docker, podman and skopeo', () => {
    const text = trustInstructions('registry.test', 5443, '/tmp/registry.test.crt');
    assert.match(text, /\/etc\/docker\/certs\.d\/registry\.test:5443\/ca\.crt/);
    assert.match(text, /\/etc\/containers\/certs\.d\/registry\.test:5443\/ca\.crt/);
    assert.match(text, /--cert-dir/);
  });
});

describe('tls: certificate expiry warning', () => {
  const tls = { certificatePath: '/c.crt', keyPath: '/c.key', certificatePem: '', keyPem: '', validTo: new Date('2030-02-01T00:00:00Z') };
  const table: Array<{ now: string; expected: RegExp | undefined }> = [
    { now: '2029-12-01T00:00:00Z', expected: undefined },
    { now: '2030-01-20T00:00:00Z', expected: /expires in 12 days \(2030-02-01\)/ },
    { now: '2030-03-01T00:00:00Z', expected: /expired on 2030-02-01; clients will refuse it/ },
  ];
  for (const { now, expected } of table) {
    it(`on ${now.slice(0, 10)} ${expected ? 'warns' : 'says nothing'}`, () => {
      const w = expiryWarning(tls, new Date(now));
      if (expected) assert.match(w ?? '', expected);
      else assert.equal(w, undefined);
    });
  }
});
