import * as assert from 'node:assert/strict';
import { fetchTransport, parseChallenge, UpstreamClient } from '../../../src/server/proxy/upstream';
import { readProxyConfig } from '../../../src/server/proxy/proxyStorage';

describe('proxy: upstream challenges', () => {
  const table: Array<{ input: string | null; expected: unknown }> = [
    { input: 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"', expected: { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' } } },
    { input: 'Bearer service="s", realm="https://x/t", scope="repository:a:pull,push"', expected: { scheme: 'bearer', params: { service: 's', realm: 'https://x/t', scope: 'repository:a:pull,push' } } },
    { input: 'Basic realm="Registry Realm"', expected: { scheme: 'basic', params: { realm: 'Registry Realm' } } },
    { input: 'Basic realm="r", Bearer realm="https://x/t",service="s"', expected: { scheme: 'bearer', params: { realm: 'https://x/t', service: 's' } } },
    { input: null, expected: undefined },
  ];
  for (const { input, expected } of table) it(`parses ${String(input).slice(0, 40)}`, () => assert.deepEqual(parseChallenge(input), expected));
});

describe('proxy: upstream client', () => {
  interface Seen { url: string; auth: string | undefined }

  function fakeUpstream(kind: 'bearer' | 'basic'): { fetch: typeof fetch; seen: Seen[] } {
    const seen: Seen[] = [];
    const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = String(input);
      const auth = (init?.headers as Record<string, string> | undefined)?.['Authorization'];
      seen.push({ url, auth });
      if (url.startsWith('https://auth.test/token')) {
        return auth === `Basic ${Buffer.from('u:p').toString('base64')}` ? Response.json({ token: `tok-${new URL(url).searchParams.get('scope')}`, expires_in: 300 }) : new Response('no', { status: 401 });
      }
      const want = kind === 'bearer' ? 'Bearer tok-repository:lib/app:pull' : `Basic ${Buffer.from('u:p').toString('base64')}`;
      if (auth !== want) {
        const challenge = kind === 'bearer' ? 'Bearer realm="https://auth.test/token",service="up"' : 'Basic realm="up"';
        return new Response('{}', { status: 401, headers: { 'WWW-Authenticate': challenge } });
      }
      return new Response('{"schemaVersion":2}', { status: 200, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    };
    return { fetch: fake as typeof fetch, seen };
  }

  it('follows a bearer challenge with Basic credentials, then reuses the token', async () => {
    const up = fakeUpstream('bearer');
    const client = new UpstreamClient({ remoteUrl: new URL('https://up.test'), username: 'u', password: 'p', transport: fetchTransport(up.fetch) });
    const first = await client.manifest('lib/app', '1', 'GET');
    assert.equal(first.status, 200);
    first.body?.resume();
    const second = await client.manifest('lib/app', '2', 'HEAD');
    assert.equal(second.status, 200);
    assert.deepEqual(up.seen.map((s) => s.url.replace(/\?.*/, '')), [
      'https://up.test/v2/lib/app/manifests/1', 'https://auth.test/token', 'https://up.test/v2/lib/app/manifests/1', 'https://up.test/v2/lib/app/manifests/2',
    ]);
    assert.equal(new URL(up.seen[1]?.url ?? '').searchParams.get('service'), 'up');
  });

  it('answers Basic challenges with the credentials', async () => {
    const up = fakeUpstream('basic');
    const client = new UpstreamClient({ remoteUrl: new URL('https://up.test'), username: 'u', password: 'p', transport: fetchTransport(up.fetch) });
    assert.equal((await client.manifest('lib/app', '1', 'HEAD')).status, 200);
    assert.equal((await client.manifest('lib/app', '1', 'HEAD')).status, 200);
    assert.equal(up.seen.length, 3, 'the second request authenticates up front');
  });

  it('reports 401 when the credentials are refused', async () => {
    const up = fakeUpstream('bearer');
    const client = new UpstreamClient({ remoteUrl: new URL('https://up.test'), username: 'u', password: 'wrong', transport: fetchTransport(up.fetch) });
    assert.equal((await client.manifest('lib/app', '1', 'GET')).status, 401);
  });

  it('reads the proxy section with distribution\'s keys and a TTL', () => {
    const c = readProxyConfig({ remoteurl: 'http://127.0.0.1:5000', username: 'u', password: 'p', ttl: '1h' });
    assert.equal(c.remoteUrl.href, 'http://127.0.0.1:5000/');
    assert.equal(c.ttlMs, 3_600_000);
    assert.throws(() => readProxyConfig({ remoteurl: 'http://x', username: 'u' }), { message: /^proxy: username and password go together/ });
    assert.throws(() => readProxyConfig({}), { message: /^proxy\.remoteurl: is required/ });
  });
});
