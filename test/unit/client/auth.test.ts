import * as assert from 'node:assert/strict';
import { challengeScopes, mergeScopes, parseChallenges, readTokenResponse, TokenCache, type Challenge } from '../../../src/client/auth';

describe('WWW-Authenticate challenges', () => {
  const table: Array<{ name: string; input: string | string[]; expected: Challenge[] }> = [
    {
      name: 'the usual Bearer order',
      input: 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"',
      expected: [{ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull' } }],
    },
    {
      name: 'scope first, realm last, with spaces around commas',
      input: 'Bearer scope="repository:x:pull,push" ,  service="svc" , realm="https://a/t"',
      expected: [{ scheme: 'bearer', params: { scope: 'repository:x:pull,push', service: 'svc', realm: 'https://a/t' } }],
    },
    {
      name: 'a realm with commas and a query inside quotes, and an error parameter',
      input: 'Bearer error="insufficient_scope",realm="http://127.0.0.1:9/token?a=1,b=2",scope="repository:x:pull repository:y:pull",service="s"',
      expected: [{ scheme: 'bearer', params: { error: 'insufficient_scope', realm: 'http://127.0.0.1:9/token?a=1,b=2', scope: 'repository:x:pull repository:y:pull', service: 's' } }],
    },
    {
      name: 'escaped quotes and unquoted values, case-insensitive names',
      input: 'BEARER Realm=https://a/t, Service="s \\"q\\"", SCOPE=registry:catalog:*',
      expected: [{ scheme: 'bearer', params: { realm: 'https://a/t', service: 's "q"', scope: 'registry:catalog:*' } }],
    },
    {
      name: 'Basic and Bearer challenges in one header',
      input: 'Basic realm="Registry Realm", Bearer realm="https://a/t",service="s"',
      expected: [
        { scheme: 'basic', params: { realm: 'Registry Realm' } },
        { scheme: 'bearer', params: { realm: 'https://a/t', service: 's' } },
      ],
    },
    {
      name: 'several headers',
      input: ['Negotiate', 'Basic realm="r"'],
      expected: [{ scheme: 'negotiate', params: {} }, { scheme: 'basic', params: { realm: 'r' } }],
    },
    {
      name: 'a token68 after a scheme',
      input: 'Negotiate abc123==, Basic realm="r"',
      expected: [{ scheme: 'negotiate', params: {} }, { scheme: 'basic', params: { realm: 'r' } }],
    },
    { name: 'an empty header', input: '', expected: [] },
  ];
  for (const { name, input, expected } of table) {
    it(`parses ${name}`, () => assert.deepEqual(parseChallenges(input), expected));
  }

  it('splits several scopes of one challenge', () => {
    const [c] = parseChallenges('Bearer realm="r",scope="repository:a:pull,push repository:b:pull"');
    assert.ok(c);
    assert.deepEqual(challengeScopes(c), ['repository:a:pull,push', 'repository:b:pull']);
  });
});

describe('scopes', () => {
  const table: Array<{ input: string[][]; expected: string[] }> = [
    { input: [['repository:a:pull'], ['repository:a:push']], expected: ['repository:a:pull,push'] },
    { input: [['repository:b:pull', 'repository:a:pull,push'], ['repository:a:pull']], expected: ['repository:a:pull,push', 'repository:b:pull'] },
    { input: [['registry:catalog:*'], []], expected: ['registry:catalog:*'] },
    { input: [['repository:host:5000/a:pull']], expected: ['repository:host:5000/a:pull'] },
    { input: [[], []], expected: [] },
  ];
  for (const { input, expected } of table) {
    it(`merges ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => assert.deepEqual(mergeScopes(...input), expected));
  }
});

describe('token responses and the token cache', () => {
  const table: Array<{ name: string; body: Record<string, unknown>; token?: string; lifetimeMs?: number }> = [
    { name: 'token with expires_in', body: { token: 't1', expires_in: 300 }, token: 't1', lifetimeMs: 290_000 },
    { name: 'access_token only', body: { access_token: 'a1', expires_in: 120 }, token: 'a1', lifetimeMs: 110_000 },
    { name: 'both (access_token wins)', body: { token: 't', access_token: 'a' }, token: 'a', lifetimeMs: 54_000 },
    { name: 'a short expires_in is raised to 60 s', body: { token: 't', expires_in: 5 }, token: 't', lifetimeMs: 54_000 },
    { name: 'no token at all', body: { expires_in: 60 } },
  ];
  for (const { name, body, token, lifetimeMs } of table) {
    it(`reads ${name}`, () => {
      const r = readTokenResponse(body, 1_000);
      if (token === undefined) return assert.equal(r, undefined);
      assert.deepEqual(r, { token, expiresAtMs: 1_000 + (lifetimeMs ?? 0) });
    });
  }

  it('keeps a token per scope until it expires', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    const pull = TokenCache.key('h', 'r', 's', ['repository:a:pull']);
    const push = TokenCache.key('h', 'r', 's', ['repository:a:pull,push']);
    cache.set(pull, { token: 'p', expiresAtMs: 1_000 });
    assert.equal(cache.get(pull), 'p');
    assert.equal(cache.get(push), undefined, 'another scope needs another token');
    now = 999;
    assert.equal(cache.get(pull), 'p');
    now = 1_000;
    assert.equal(cache.get(pull), undefined, 'expired');
    assert.equal(cache.size, 0);
  });

  it('gives the same key for the same scopes in any order and forgets a host', () => {
    const cache = new TokenCache(() => 0);
    const k1 = TokenCache.key('h', 'r', 's', ['repository:b:pull', 'repository:a:pull']);
    assert.equal(k1, TokenCache.key('h', 'r', 's', ['repository:a:pull', 'repository:b:pull']));
    cache.set(k1, { token: 't', expiresAtMs: 10 });
    cache.set(TokenCache.key('other', 'r', 's', []), { token: 'u', expiresAtMs: 10 });
    cache.forgetHost('h');
    assert.equal(cache.get(k1), undefined);
    assert.equal(cache.size, 1);
  });
});
