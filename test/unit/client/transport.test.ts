import * as assert from 'node:assert/strict';
import { errorFromNetwork, errorFromResponse, parseSpecErrors, type RegistryErrorKind } from '../../../src/client/errors';
import { choosePlatform, verifyManifest, type PlatformEntry } from '../../../src/client/manifests';
import { fallbackNext, nextLink, walkPages, type Page } from '../../../src/client/paging';
import { isLoopbackHost, parseRetryAfter, parseWarnings, proxyFor } from '../../../src/client/transport';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';

describe('proxy selection', () => {
  const env = { HTTPS_PROXY: 'http://proxy:3128', http_proxy: 'http://plain:8080', NO_PROXY: 'internal.example,.corp.example,10.0.0.1,svc:5000' };
  const table: Array<{ url: string; expected: string | undefined; env?: NodeJS.ProcessEnv }> = [
    { url: 'https://ghcr.io/v2/', expected: 'http://proxy:3128' },
    { url: 'http://registry.example/v2/', expected: 'http://plain:8080' },
    { url: 'https://internal.example/v2/', expected: undefined },
    { url: 'https://sub.internal.example/v2/', expected: undefined },
    { url: 'https://corp.example/v2/', expected: undefined },
    { url: 'https://a.corp.example/v2/', expected: undefined },
    { url: 'https://notcorp.example/v2/', expected: 'http://proxy:3128' },
    { url: 'https://10.0.0.1/v2/', expected: undefined },
    { url: 'https://svc:5000/v2/', expected: undefined },
    { url: 'https://svc:6000/v2/', expected: 'http://proxy:3128' },
    { url: 'https://127.0.0.1:5000/v2/', expected: undefined },
    { url: 'https://localhost:5000/v2/', expected: undefined },
    { url: 'https://[::1]:5000/v2/', expected: undefined },
    { url: 'https://ghcr.io/v2/', expected: undefined, env: { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' } },
    { url: 'https://ghcr.io/v2/', expected: 'http://p:1', env: { https_proxy: 'p:1' } },
    { url: 'https://ghcr.io/v2/', expected: undefined, env: {} },
  ];
  for (const { url, expected, env: e } of table) {
    it(`${expected ? 'proxies' : 'does not proxy'} ${url}${e ? ` with ${JSON.stringify(e)}` : ''}`, () => assert.equal(proxyFor(new URL(url), e ?? env), expected));
  }
});

describe('loopback hosts', () => {
  const table: Array<[string, boolean]> = [
    ['localhost:5000', true], ['127.0.0.1', true], ['127.1.2.3:80', true], ['[::1]:5000', true], ['a.localhost', true],
    ['10.0.0.1:5000', false], ['ghcr.io', false], ['localhost.example.com', false],
  ];
  for (const [host, expected] of table) it(`treats ${host} as ${expected ? '' : 'not '}loopback`, () => assert.equal(isLoopbackHost(host), expected));
});

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const table: Array<[string | undefined, number | undefined]> = [
    ['3', 3000], [' 0 ', 0], ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000], ['Wed, 31 Dec 2025 00:00:00 GMT', 0], ['soon', undefined], [undefined, undefined],
  ];
  for (const [value, expected] of table) it(`reads ${JSON.stringify(value)} as ${expected} ms`, () => assert.equal(parseRetryAfter(value, now), expected));
});

describe('Warning headers', () => {
  const table: Array<[string, string[]]> = [
    ['299 - "Your auth token will expire in 30 seconds."', ['Your auth token will expire in 30 seconds.']],
    ['299 - "a, b", 299 - "say \\"hi\\""', ['a, b', 'say "hi"']],
    ['199 - "not for registries"', []],
    ['', []],
  ];
  for (const [value, expected] of table) it(`reads ${JSON.stringify(value)}`, () => assert.deepEqual(parseWarnings(value), expected));
});

describe('Link pagination', () => {
  const req = new URL('https://reg.example:5000/v2/_catalog?n=2');
  const table: Array<{ header: string | undefined; expected: string | undefined }> = [
    { header: '</v2/_catalog?last=b&n=2>; rel="next"', expected: 'https://reg.example:5000/v2/_catalog?last=b&n=2' },
    { header: '<https://cdn.example/v2/_catalog?n=2&last=b&sig=x,y>; rel=next', expected: 'https://cdn.example/v2/_catalog?n=2&last=b&sig=x,y' },
    { header: '</prev>; rel="prev", </v2/_catalog?n=2&last=d>; rel="next"', expected: 'https://reg.example:5000/v2/_catalog?n=2&last=d' },
    { header: '</x>; title="a, b"; rel="next last"', expected: 'https://reg.example:5000/x' },
    { header: '</prev>; rel="prev"', expected: undefined },
    { header: undefined, expected: undefined },
  ];
  for (const { header, expected } of table) it(`follows ${JSON.stringify(header)}`, () => assert.equal(nextLink(header, req)?.toString(), expected));

  it('continues after the last item only when a page without Link is full', () => {
    assert.equal(fallbackNext(new URL('https://r/v2/a/tags/list?n=2'), ['a', 'b'], 2)?.toString(), 'https://r/v2/a/tags/list?n=2&last=b');
    assert.equal(fallbackNext(new URL('https://r/v2/a/tags/list?n=2'), ['a'], 2), undefined);
    assert.equal(fallbackNext(new URL('https://r/v2/a/tags/list?n=2'), ['a', 'b', 'c'], 2), undefined, 'a registry that ignores n gave everything');
  });

  it('walks pages lazily and stops when a next link does not move on', async () => {
    const pages: Record<string, Page<number>> = { a: { items: [1], next: { url: 'b' } }, b: { items: [2], next: { url: 'c' } }, c: { items: [3], next: { url: 'c' } } };
    const fetched: string[] = [];
    const walk = walkPages(async () => pages['a'] as Page<number>, async (c) => {
      fetched.push(c.url);
      return pages[c.url] as Page<number>;
    });
    const first = await walk.next();
    assert.deepEqual(first.value, pages['a']);
    assert.deepEqual(fetched, [], 'nothing fetched beyond page one until asked');
    const rest: number[] = [];
    for await (const p of walk) rest.push(...p.items);
    assert.deepEqual(rest, [2, 3]);
    assert.deepEqual(fetched, ['b', 'c']);
  });
});

describe('registry errors', () => {
  const table: Array<{ status: number; body?: string; method?: string; kind: RegistryErrorKind; mentions: RegExp }> = [
    { status: 401, kind: 'unauthorized', mentions: /Sign in/ },
    { status: 403, body: '{"errors":[{"code":"DENIED","message":"no"}]}', kind: 'denied', mentions: /DENIED: no/ },
    { status: 404, body: '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', kind: 'not-found', mentions: /MANIFEST_UNKNOWN/ },
    { status: 429, kind: 'rate-limited', mentions: /rate limiting/ },
    { status: 405, method: 'DELETE', body: '{"errors":[{"code":"UNSUPPORTED"}]}', kind: 'deletion-disabled', mentions: /deletion disabled/ },
    { status: 405, method: 'GET', kind: 'unsupported', mentions: /does not support/ },
    { status: 503, body: '<html>down</html>', kind: 'server-error', mentions: /try again later/ },
    { status: 400, body: '{"errors":[{"code":"NAME_INVALID"}]}', kind: 'bad-request', mentions: /NAME_INVALID/ },
  ];
  for (const { status, body, method, kind, mentions } of table) {
    it(`maps ${method ?? 'GET'} ${status} to ${kind}`, () => {
      const e = errorFromResponse({ host: 'reg', status, what: 'do a thing', body: body ?? '', ...(method ? { method } : {}) });
      assert.equal(e.kind, kind);
      assert.match(e.message, mentions);
      assert.equal(e.status, status);
    });
  }

  const network: Array<{ name: string; error: Error; kind: RegistryErrorKind; mentions: RegExp }> = [
    { name: 'a self-signed certificate', error: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), kind: 'tls', mentions: /CA file/ },
    { name: 'a name mismatch', error: Object.assign(new Error('Hostname/IP does not match'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), kind: 'tls', mentions: /CA file/ },
    { name: 'a refused connection', error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), kind: 'unreachable', mentions: /registry is running/ },
    { name: 'an unknown host', error: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), kind: 'unreachable', mentions: /Check the address/ },
    { name: 'an abort', error: new DOMException('aborted', 'AbortError'), kind: 'aborted', mentions: /Cancelled/ },
  ];
  for (const { name, error, kind, mentions } of network) {
    it(`maps ${name} to ${kind}`, () => {
      const e = errorFromNetwork('reg:5000', 'list tags', error);
      assert.equal(e.kind, kind);
      assert.match(e.message, mentions);
      assert.equal(e.cause, error);
    });
  }

  it('reads the spec error body and ignores anything else', () => {
    assert.deepEqual(parseSpecErrors('{"errors":[{"code":"BLOB_UNKNOWN","message":"m","detail":{"d":1}},{"nope":1}]}'), [{ code: 'BLOB_UNKNOWN', message: 'm', detail: { d: 1 } }]);
    assert.deepEqual(parseSpecErrors('<html>'), []);
    assert.deepEqual(parseSpecErrors('{"errors":null}'), []);
  });
});

describe('manifest verification', () => {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: digestOf('{}'), size: 2 }, layers: [] }));
  const digest = digestOf(manifest);
  const table: Array<{ name: string; contentType: string; reference: string; header?: string; error?: RegExp }> = [
    { name: 'a tag with a matching header', contentType: MediaType.ociManifest, reference: 'v1', header: digest },
    { name: 'a digest reference', contentType: `${MediaType.ociManifest}; charset=utf-8`, reference: digest },
    { name: 'a digest that does not match', contentType: MediaType.ociManifest, reference: digestOf('other'), error: /does not match/ },
    { name: 'a header digest that does not match', contentType: MediaType.ociManifest, reference: 'v1', header: digestOf('x'), error: /does not match/ },
    { name: 'a Content-Type other than the mediaType field', contentType: MediaType.dockerManifest, reference: 'v1', error: /served/ },
  ];
  for (const { name, contentType, reference, header, error } of table) {
    it(`${error ? 'rejects' : 'accepts'} ${name}`, () => {
      const run = (): unknown => verifyManifest('reg', 'get it', manifest, contentType, reference, header);
      if (error) assert.throws(run, error);
      else assert.deepEqual(run(), { manifest: JSON.parse(manifest.toString()), mediaType: MediaType.ociManifest, digest });
    });
  }

  it('refuses Docker schema 1 with advice', () => {
    assert.throws(() => verifyManifest('reg', 'get it', Buffer.from('{"schemaVersion":1}'), MediaType.dockerSchema1Signed, 'v1', undefined), /schema 1.*push the image again/);
  });
});

describe('platform choice', () => {
  const entry = (os: string, architecture: string, variant?: string, attestation = false): PlatformEntry => ({
    digest: `sha256:${os}${architecture}${variant ?? ''}`, mediaType: MediaType.ociManifest, size: 1, attestation,
    platform: { os, architecture, ...(variant ? { variant } : {}) },
  });
  const entries = [entry('unknown', 'unknown', undefined, true), entry('linux', 'arm64', 'v8'), entry('linux', 'amd64'), entry('windows', 'amd64')];
  const table: Array<{ wanted?: Record<string, string>; expected: string | undefined }> = [
    { expected: 'sha256:linuxamd64' },
    { wanted: { os: 'linux', architecture: 'arm64' }, expected: 'sha256:linuxarm64v8' },
    { wanted: { os: 'windows' }, expected: 'sha256:windowsamd64' },
    { wanted: { os: 'linux', architecture: 'riscv64' }, expected: undefined },
  ];
  for (const { wanted, expected } of table) {
    it(`picks ${expected ?? 'nothing'} for ${JSON.stringify(wanted ?? 'the default')}`, () => assert.equal(choosePlatform(entries, wanted)?.digest, expected));
  }
});
