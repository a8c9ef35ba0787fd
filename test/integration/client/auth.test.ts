import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { RegistryClient, copyImage, isRegistryError, type Credential, type Registry } from '../../../src/client';
import { startDistribution, type Distribution } from '../../support/distribution';
import { buildImage, buildIndex, type Built } from '../../support/ociImage';
import { removeDir, tempDir } from '../../support/proc';
import { startChallengeReorderProxy, startTokenServer, type ReorderProxy, type TokenServer } from '../../support/tokenServer';

/** Pushes a built image or index through the client under test (the support helper speaks only anonymous HTTP). */
async function pushWith(reg: Registry, repo: string, built: Built, tag: string): Promise<void> {
  if (built.kind === 'index') {
    for (const image of built.images) await pushWith(reg, repo, image, image.digest);
  } else {
    for (const blob of [built.config, ...built.layers]) {
      await reg.uploadBlob(repo, { digest: blob.descriptor.digest, size: blob.bytes.length, body: blob.bytes });
    }
  }
  await reg.putManifest(repo, tag, built.bytes, built.mediaType);
}

const USER = 'alice';
const PASSWORD = 'correct horse battery staple';

describe('registry client against distribution with htpasswd (Basic)', () => {
  let dir: string;
  let registry: Distribution;

  before(async () => {
    dir = tempDir('htpasswd');
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
    registry = await startDistribution({ config: { auth: { htpasswd: { realm: 'Berth Test Realm', path: htpasswd } } } });
  });
  after(async () => {
    await registry?.stop();
    if (dir) removeDir(dir);
  });

  const clientWith = (credential: Credential | undefined): RegistryClient => new RegistryClient({ credentials: () => credential, retry: { maxRetries: 0 } });

  it('signs in with the right password and reports Basic', async () => {
    const client = clientWith({ username: USER, password: PASSWORD });
    try {
      assert.deepEqual(await client.registry(registry.host).checkCredentials(), { registry: registry.host, auth: 'basic', signedIn: true, apiVersion: 'registry/2.0' });
    } finally {
      client.close();
    }
  });

  it('asks a person without credentials to sign in', async () => {
    const client = clientWith(undefined);
    try {
      await assert.rejects(client.registry(registry.host).checkCredentials(), (e) => isRegistryError(e, 'unauthorized') && /needs you to sign in/.test(e.message));
    } finally {
      client.close();
    }
  });

  it('reports a wrong password as unauthorized with advice', async () => {
    const client = clientWith({ username: USER, password: 'wrong' });
    try {
      await assert.rejects(client.registry(registry.host).checkCredentials(), (e) => isRegistryError(e, 'unauthorized') && /Sign in to .* again/.test(e.message));
    } finally {
      client.close();
    }
  });

  it('pushes, lists and reads back with Basic credentials sent up front', async () => {
    let requests = 0;
    const client = new RegistryClient({ credentials: () => ({ username: USER, password: PASSWORD }), onRequest: () => requests++ });
    try {
      const reg = client.registry(registry.host);
      const image = buildImage();
      await pushWith(reg, 'basic/app', image, 'v1');
      const catalog = await reg.catalogPage();
      assert.ok(catalog.kind === 'page' && catalog.page.items.includes('basic/app'));
      requests = 0;
      assert.deepEqual((await reg.tagsPage('basic/app')).items, ['v1']);
      assert.equal(requests, 1, 'no 401 round trip once the host is known to use Basic');
      assert.equal((await reg.getManifest('basic/app', 'v1')).digest, image.digest);
    } finally {
      client.close();
    }
  });
});

describe('registry client against distribution with token auth (Bearer)', () => {
  let tokens: TokenServer;
  let registry: Distribution;
  let proxy: ReorderProxy;
  const REFRESH = 'refresh-token-for-alice';

  before(async () => {
    // The realm carries its own query with commas, so a parser that splits quoted values breaks here.
    tokens = await startTokenServer({ users: { [USER]: PASSWORD }, refreshTokens: { [REFRESH]: USER }, realmQuery: 'tenant=a,b&x=1', anonymousActions: ['pull'] });
    registry = await startDistribution({ config: { auth: tokens.distributionAuth() } });
    proxy = await startChallengeReorderProxy(registry.url);
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    await tokens?.stop();
  });

  const withClient = async (credential: Credential | undefined, fn: (reg: Registry, client: RegistryClient) => Promise<void>, host = proxy.host): Promise<void> => {
    const client = new RegistryClient({ credentials: () => credential, retry: { maxRetries: 0 } });
    try {
      await fn(client.registry(host), client);
    } finally {
      client.close();
    }
  };

  it('signs in through a challenge whose parameters come scope-first and realm-last', async () => {
    await withClient({ username: USER, password: PASSWORD }, async (reg) => {
      assert.deepEqual(await reg.checkCredentials(), { registry: proxy.host, auth: 'bearer', signedIn: true, apiVersion: 'registry/2.0' });
      const last = tokens.requests[tokens.requests.length - 1];
      assert.equal(last?.user, USER);
      assert.equal(last?.service, tokens.service);
      assert.deepEqual(last?.query, { tenant: 'a,b', x: '1' }, 'the realm keeps its own query');
    });
  });

  it('pushes and reads with tokens cached per scope, fetching none twice', async () => {
    await withClient({ username: USER, password: PASSWORD }, async (reg) => {
      const image = buildImage();
      await pushWith(reg, 'token/app', image, 'v1');
      const before = tokens.requests.length;
      assert.deepEqual((await reg.tagsPage('token/app')).items, ['v1']);
      assert.equal((await reg.headManifest('token/app', 'v1')).digest, image.digest);
      assert.equal((await reg.getManifest('token/app', 'v1')).digest, image.digest);
      assert.deepEqual((await reg.tagsPage('token/app')).items, ['v1']);
      assert.equal(tokens.requests.length - before, 1, 'one token for repository:token/app:pull serves every read');
      const catalog = await reg.catalogPage();
      assert.ok(catalog.kind === 'page' && catalog.page.items.includes('token/app'));
      assert.deepEqual(tokens.requests[tokens.requests.length - 1]?.scopes, ['registry:catalog:*']);
    });
  });

  it('asks for a new token once when the registry rejects a cached one with a new challenge', async () => {
    await withClient({ username: USER, password: PASSWORD }, async (reg) => {
      await pushWith(reg, 'stale/app', buildImage(), 'v1');
      await reg.checkCredentials();
      tokens.issueStale(1);
      const before = tokens.requests.length;
      assert.deepEqual((await reg.tagsPage('stale/app')).items, ['v1']);
      assert.equal(tokens.requests.length - before, 2, 'the stale token, then a fresh one after the 401');
    });
  });

  it('keeps a token until expires_in and then asks for a new one', async () => {
    let nowMs = Date.now();
    const client = new RegistryClient({ credentials: () => ({ username: USER, password: PASSWORD }), nowMs: () => nowMs });
    try {
      const reg = client.registry(proxy.host);
      await pushWith(reg, 'expiry/app', buildImage(), 'v1');
      await reg.tagsPage('expiry/app');
      const before = tokens.requests.length;
      nowMs += 200_000;
      await reg.tagsPage('expiry/app');
      assert.equal(tokens.requests.length, before, 'still valid 200 s into a 300 s token');
      nowMs += 101_000;
      await reg.tagsPage('expiry/app');
      assert.equal(tokens.requests.length, before + 1, 'expired after 300 s: one new token');
    } finally {
      client.close();
    }
  });

  it('uses the OAuth2 POST form with an identity token', async () => {
    await withClient({ identityToken: REFRESH }, async (reg) => {
      const image = buildImage();
      await pushWith(reg, 'oauth/app', image, 'v1');
      const last = tokens.requests[tokens.requests.length - 1];
      assert.equal(last?.method, 'POST');
      assert.equal(last?.grant, 'refresh_token');
      assert.equal(last?.user, USER);
      assert.equal((await reg.headManifest('oauth/app', 'v1')).digest, image.digest);
    });
  });

  it('reads anonymously where the token service allows pull, and asks to sign in for push', async () => {
    await withClient({ username: USER, password: PASSWORD }, (reg) => pushWith(reg, 'public/app', buildImage(), 'v1'));
    await withClient(undefined, async (reg) => {
      assert.deepEqual((await reg.tagsPage('public/app')).items, ['v1']);
      await assert.rejects(pushWith(reg, 'public/app', buildImage(), 'v2'), (e) => isRegistryError(e, 'unauthorized') && /sign in/.test(e.message));
    });
  });

  it('refuses wrong credentials at the token service with advice', async () => {
    await withClient({ username: USER, password: 'nope' }, async (reg) => {
      await assert.rejects(reg.checkCredentials(), (e) => isRegistryError(e, 'unauthorized') && /refused the saved credentials/.test(e.message));
    });
  });

  it('mounts blobs across repositories with one token for both scopes', async () => {
    await withClient({ username: USER, password: PASSWORD }, async (reg, client) => {
      const image = buildImage();
      await pushWith(reg, 'mount/src', image, 'v1');
      const events: string[] = [];
      const result = await copyImage(client, { registry: proxy.host, repository: 'mount/src', tag: 'v1' }, { registry: proxy.host, repository: 'mount/dst', tag: 'v1' }, { onProgress: (e) => events.push(e.type) });
      assert.equal(result.digest, image.digest);
      assert.equal(result.blobsMounted, 2);
      assert.equal(result.blobsCopied, 0);
      assert.ok(tokens.requests.some((r) => r.scopes.includes('repository:mount/src:pull') && r.scopes.includes('repository:mount/dst:pull,push')), JSON.stringify(tokens.requests.slice(-3)));
      assert.equal((await reg.headManifest('mount/dst', 'v1')).digest, image.digest);
    });
  });
});

describe('token endpoints that accept only one method', () => {
  const cases: Array<{ name: string; methods: 'get' | 'post'; tokenField: 'token' | 'access_token'; credential: Credential; expectExchanges: string[] }> = [
    { name: 'a GET-only endpoint with an identity token (POST refused, then GET with Basic)', methods: 'get', tokenField: 'token', credential: { identityToken: 'rt-1' }, expectExchanges: ['POST 405', 'GET 200'] },
    { name: 'a POST-only endpoint answering access_token', methods: 'post', tokenField: 'access_token', credential: { identityToken: 'rt-1' }, expectExchanges: ['POST 200'] },
    { name: 'a GET-only endpoint with a password answering access_token', methods: 'get', tokenField: 'access_token', credential: { username: USER, password: PASSWORD }, expectExchanges: ['GET 200'] },
  ];
  for (const c of cases) {
    it(`gets a token from ${c.name}`, async () => {
      const tokens = await startTokenServer({ users: { [USER]: PASSWORD }, refreshTokens: { 'rt-1': USER }, methods: c.methods, tokenField: c.tokenField });
      const registry = await startDistribution({ config: { auth: tokens.distributionAuth() } });
      const client = new RegistryClient({ credentials: () => c.credential, retry: { maxRetries: 0 } });
      try {
        const reg = client.registry(registry.host);
        const image = buildImage();
        await pushWith(reg, 'one/app', image, 'v1');
        assert.equal((await reg.headManifest('one/app', 'v1')).digest, image.digest);
        assert.deepEqual([...new Set(tokens.requests.map((r) => `${r.method} ${r.status}`))], c.expectExchanges);
        assert.ok(tokens.requests.filter((r) => r.status === 200).every((r) => r.user === USER));
      } finally {
        client.close();
        await registry.stop();
        await tokens.stop();
      }
    });
  }
});

describe('copying between registries that authenticate differently', () => {
  let dir: string;
  let basicRegistry: Distribution;
  let tokens: TokenServer;
  let tokenRegistry: Distribution;

  before(async () => {
    dir = tempDir('copy-auth');
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `bob:${bcrypt.hashSync('bobs-secret', 5)}\n`);
    tokens = await startTokenServer({ users: { [USER]: PASSWORD } });
    [basicRegistry, tokenRegistry] = await Promise.all([
      startDistribution({ config: { auth: { htpasswd: { realm: 'basic', path: htpasswd } } } }),
      startDistribution({ config: { auth: tokens.distributionAuth() } }),
    ]);
  });
  after(async () => {
    await Promise.all([basicRegistry?.stop(), tokenRegistry?.stop()]);
    await tokens?.stop();
    if (dir) removeDir(dir);
  });

  it('copies a multi-platform index from a Basic registry to a Bearer registry with each its own credentials', async () => {
    const credentials = (registry: string): Credential | undefined => {
      if (registry === basicRegistry.host) return { username: 'bob', password: 'bobs-secret' };
      if (registry === tokenRegistry.host) return { username: USER, password: PASSWORD };
      return undefined;
    };
    const client = new RegistryClient({ credentials });
    try {
      const index = buildIndex();
      await pushWith(client.registry(basicRegistry.host), 'team/app', index, 'v1');
      const result = await copyImage(client, { registry: basicRegistry.host, repository: 'team/app', tag: 'v1' }, { registry: tokenRegistry.host, repository: 'mirror/app', tag: 'v1' });
      assert.equal(result.digest, index.digest);
      assert.equal(result.blobsCopied, 6);
      const copied = await client.registry(tokenRegistry.host).getManifest('mirror/app', 'v1');
      assert.ok(copied.bytes.equals(index.bytes));
      const platforms = await client.registry(tokenRegistry.host).platforms('mirror/app', 'v1');
      assert.deepEqual(platforms.map((p) => p.digest), index.images.map((i) => i.digest));
    } finally {
      client.close();
    }
  });
});
