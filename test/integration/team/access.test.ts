/**
 * Authentication and access rules over HTTP, in both modes: Basic against htpasswd, and docker's
 * bearer-token flow with the built-in token endpoint. Real server started with --config.
 */
import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerthRegistry } from '../../support/berthRegistry';
import { buildImage, contentOf } from '../../support/ociImage';
import { outputMatching, removeDir, sleep, stopAndWait, tempDir } from '../../support/proc';
import { basic, errorCode, fetchToken, registryCli, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' };
type User = keyof typeof USERS;

const ACCESS = {
  groups: { 'team-a': ['alice'], 'team-b': ['bob'] },
  rules: [
    { repositories: ['team-a/*'], groups: ['team-a'], actions: ['pull', 'push'] },
    { repositories: ['team-a/*'], users: ['alice'], actions: ['delete'] },
    { repositories: ['team-a/*'], users: ['carol'], actions: ['pull'] },
    { repositories: ['team-b/**'], groups: ['team-b'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['public/*'], anonymous: true, actions: ['pull'] },
  ],
};

interface Mode {
  name: string;
  auth: Record<string, unknown>;
  /** The Authorization header `user` sends for `scopes` in this mode (undefined: anonymous). */
  header(reg: TeamRegistry, user: User | undefined, scopes: string[]): Promise<string | undefined>;
}

const MODES: Mode[] = [
  {
    name: 'htpasswd (Basic)',
    auth: {},
    header: async (_reg, user) => (user ? basic(user, USERS[user]) : undefined),
  },
  {
    name: 'token',
    auth: { token: { expiration: '5s' } },
    header: async (reg, user, scopes) => {
      const { status, body } = await fetchToken(reg.url, scopes, user ? { user, password: USERS[user] } : undefined);
      assert.equal(status, 200);
      return `Bearer ${body.token}`;
    },
  },
];

async function call(reg: TeamRegistry, method: string, path: string, auth: string | undefined, body?: Buffer, contentType?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (auth) headers['Authorization'] = auth;
  if (contentType) headers['Content-Type'] = contentType;
  return fetch(`${reg.url}${path}`, { method, headers, ...(body ? { body } : {}) });
}

/** Pushes a small image with `auth` (all blobs monolithic), returns its digest. */
async function pushImage(reg: TeamRegistry, repo: string, tag: string, auth: string | undefined): Promise<string> {
  const image = buildImage({ labels: { unique: `${repo}:${tag}:${Math.random()}` } });
  for (const blob of contentOf(image).slice(0, -1)) {
    const res = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${blob.descriptor.digest}`, auth, blob.bytes, 'application/octet-stream');
    assert.equal(res.status, 201, await res.text());
  }
  const res = await call(reg, 'PUT', `/v2/${repo}/manifests/${tag}`, auth, image.bytes, image.mediaType);
  assert.equal(res.status, 201, await res.text());
  return image.digest;
}

for (const mode of MODES) {
  describe(`team registry access rules with ${mode.name}`, function () {
    let reg: TeamRegistry;
    const scope = (repo: string, actions: string): string => `repository:${repo}:${actions}`;
    const as = (user: User | undefined, ...scopes: string[]): Promise<string | undefined> => mode.header(reg, user, scopes);

    before(async function () {
      reg = await startTeamRegistry({ users: USERS, config: { auth: mode.auth, access: ACCESS } });
      await pushImage(reg, 'team-a/app', '1', await as('alice', scope('team-a/app', 'pull,push')));
      await pushImage(reg, 'team-b/lib', '1', await as('bob', scope('team-b/lib', 'pull,push')));
    });
    after(async function () {
      await reg?.stop();
    });
    it('answers /v2/ without credentials with 401 and the mode\'s challenge', async function () {
      const res = await call(reg, 'GET', '/v2/', undefined);
      assert.equal(res.status, 401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      if (mode.name === 'token') assert.match(challenge, new RegExp(`^Bearer realm="${reg.url}/auth/token",service="berth-registry"`));
      else assert.equal(challenge, 'Basic realm="Berth test"');
    });

    const table: Array<{ what: string; user: User | undefined; method: string; path: string; scopes: string[]; status: number; code?: string }> = [
      { what: 'pulls with the pull grant', user: 'carol', method: 'GET', path: '/v2/team-a/app/manifests/1', scopes: ['repository:team-a/app:pull'], status: 200 },
      { what: 'refuses a pull without a grant with 403 DENIED', user: 'bob', method: 'GET', path: '/v2/team-a/app/manifests/1', scopes: ['repository:team-a/app:pull'], status: 403, code: 'DENIED' },
      { what: 'asks an anonymous pull of a private repository to authenticate', user: undefined, method: 'GET', path: '/v2/team-a/app/manifests/1', scopes: ['repository:team-a/app:pull'], status: 401, code: 'UNAUTHORIZED' },
      { what: 'starts a push with the push grant', user: 'alice', method: 'POST', path: '/v2/team-a/app/blobs/uploads/', scopes: ['repository:team-a/app:pull,push'], status: 202 },
      { what: 'refuses a push with only the pull grant with 403 DENIED', user: 'carol', method: 'POST', path: '/v2/team-a/app/blobs/uploads/', scopes: ['repository:team-a/app:pull,push'], status: 403, code: 'DENIED' },
      { what: 'refuses a delete without the delete grant with 403 DENIED', user: 'carol', method: 'DELETE', path: '/v2/team-a/app/manifests/1', scopes: ['repository:team-a/app:delete'], status: 403, code: 'DENIED' },
      { what: 'lists tags with the pull grant', user: 'bob', method: 'GET', path: '/v2/team-b/lib/tags/list', scopes: ['repository:team-b/lib:pull'], status: 200 },
    ];
    for (const row of table) {
      it(`${row.what} (${row.user ?? 'anonymous'} ${row.method} ${row.path})`, async function () {
        const res = await call(reg, row.method, row.path, await as(row.user, ...row.scopes));
        assert.equal(res.status, row.status);
        if (row.status === 403) {
          // The refused access is named in the detail: without it dockerd takes the refusal for a transient error and retries.
          const [error] = ((await res.json()) as { errors: Array<{ code: string; detail?: Array<{ Type: string; Name: string }> }> }).errors;
          assert.equal(error?.code, row.code);
          assert.deepEqual(error?.detail?.map((d) => `${d.Type}:${d.Name}`), [`repository:${row.path.split('/').slice(2, 4).join('/')}`]);
        } else if (row.code) assert.equal(await errorCode(res), row.code);
        if (row.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', mode.name === 'token' ? /scope="repository:team-a\/app:pull"/ : /^Basic /);
      });
    }

    it('deletes a manifest with the delete grant', async function () {
      const digest = await pushImage(reg, 'team-a/app', 'doomed', await as('alice', scope('team-a/app', 'pull,push')));
      const res = await call(reg, 'DELETE', `/v2/team-a/app/manifests/${digest}`, await as('alice', scope('team-a/app', 'delete')));
      assert.equal(res.status, 202);
    });

    it('refuses a wrong password with 401', async function () {
      if (mode.name === 'token') {
        const { status } = await fetchToken(reg.url, [scope('team-a/app', 'pull')], { user: 'alice', password: 'wrong' });
        assert.equal(status, 401);
      } else {
        const res = await call(reg, 'GET', '/v2/team-a/app/manifests/1', basic('alice', 'wrong'));
        assert.equal(res.status, 401);
        assert.equal(await errorCode(res), 'UNAUTHORIZED');
      }
    });

    it('shows in _catalog only the repositories the caller may pull', async function () {
      const catalog = async (user: User | undefined): Promise<string[]> => {
        const res = await call(reg, 'GET', '/v2/_catalog', await as(user, 'registry:catalog:*'));
        assert.equal(res.status, 200);
        return ((await res.json()) as { repositories: string[] }).repositories;
      };
      assert.deepEqual(await catalog('alice'), ['team-a/app']);
      assert.deepEqual(await catalog('carol'), ['team-a/app']);
      assert.deepEqual(await catalog('bob'), ['team-b/lib']);
    });

    if (mode.name === 'token') {
      it('grants a token exactly the requested scope the caller holds', async function () {
        const { body } = await fetchToken(reg.url, [scope('team-a/app', 'pull,push,delete'), scope('team-b/lib', 'pull')], { user: 'carol', password: USERS.carol });
        const claims = JSON.parse(Buffer.from(body.token.split('.')[1] ?? '', 'base64url').toString()) as { access: unknown; sub: string };
        assert.equal(claims.sub, 'carol');
        assert.deepEqual(claims.access, [{ type: 'repository', name: 'team-a/app', actions: ['pull'] }]);
      });

      it('refuses a token for another repository: 403 when the rules refuse, 401 with insufficient_scope when a new token would help', async function () {
        const aliceToken = await as('alice', scope('team-a/app', 'pull'));
        const denied = await call(reg, 'GET', '/v2/team-b/lib/manifests/1', aliceToken);
        assert.equal(denied.status, 403);
        assert.equal(await errorCode(denied), 'DENIED');
        const bobToken = await as('bob', scope('team-b/lib', 'pull'));
        const rescope = await call(reg, 'GET', '/v2/team-b/other/manifests/1', bobToken);
        assert.equal(rescope.status, 401);
        assert.match(rescope.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      });

      it('refuses an expired token with 401 invalid_token', async function () {
        const token = await as('alice', scope('team-a/app', 'pull'));
        assert.equal((await call(reg, 'GET', '/v2/team-a/app/manifests/1', token)).status, 200);
        await sleep(5200);
        const res = await call(reg, 'GET', '/v2/team-a/app/manifests/1', token);
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      });

      it('refreshes through the OAuth2 form and stops once the user is removed', async function () {
        const { body } = await fetchToken(reg.url, [], { user: 'carol', password: USERS.carol }, { offline_token: 'true', client_id: 'test' });
        assert.ok(body.refresh_token);
        const refresh = (): Promise<Response> => fetch(`${reg.url}/auth/token`, {
          method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: body.refresh_token ?? '', service: 'berth-registry', scope: scope('team-a/app', 'pull'), client_id: 'test' }).toString(),
        });
        const ok = await refresh();
        assert.equal(ok.status, 200);
        const access = ((await ok.json()) as { access_token: string }).access_token;
        assert.equal((await call(reg, 'GET', '/v2/team-a/app/manifests/1', `Bearer ${access}`)).status, 200);
        await registryCli(['user', 'remove', 'carol', '--htpasswd', reg.htpasswd]);
        assert.equal((await refresh()).status, 401);
        assert.equal((await call(reg, 'GET', '/v2/team-a/app/manifests/1', `Bearer ${access}`)).status, 401, 'tokens of a removed user stop working');
        await registryCli(['user', 'add', 'carol', '--htpasswd', reg.htpasswd], `${USERS.carol}\n`);
      });
    }
  });
}

describe('team registry anonymous pull and failed logins', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({
      users: { admin: 'admin-pw' },
      config: {
        auth: {}, limits: { maxFailedLoginsPerMinute: 3 },
        access: { rules: [{ repositories: ['**'], users: ['admin'], actions: ['*'] }, { repositories: ['public/*'], anonymous: true, actions: ['pull'] }] },
      },
    });
    await pushImage(reg, 'public/base', '1', basic('admin', 'admin-pw'));
  });
  after(async function () {
    await reg?.stop();
  });

  it('lets anyone pull where a rule allows anonymous pull, and nothing more', async function () {
    assert.equal((await call(reg, 'GET', '/v2/public/base/manifests/1', undefined)).status, 200);
    assert.equal((await call(reg, 'POST', '/v2/public/base/blobs/uploads/', undefined)).status, 401);
    const res = await call(reg, 'GET', '/v2/_catalog', undefined);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { repositories: string[] }).repositories, ['public/base']);
  });

  it('answers 429 TOOMANYREQUESTS with Retry-After after too many wrong passwords, even to the right one', async function () {
    for (let i = 0; i < 3; i++) assert.equal((await call(reg, 'GET', '/v2/', basic('admin', `wrong-${i}`))).status, 401);
    const limited = await call(reg, 'GET', '/v2/', basic('admin', 'admin-pw'));
    assert.equal(limited.status, 429);
    assert.equal(await errorCode(limited), 'TOOMANYREQUESTS');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    await outputMatching(reg, /"msg":"failed login","user":"admin"/);
    assert.doesNotMatch(reg.output(), /wrong-0|admin-pw/, 'passwords never reach the log');
  });
});

describe('token endpoint details', function () {
  let reg: TeamRegistry;
  let keyDir: string;
  before(async function () {
    keyDir = tempDir('token-key');
    const keyPath = join(keyDir, 'token.pem');
    writeFileSync(keyPath, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    reg = await startTeamRegistry({ users: { dev: 'dev-pw' }, config: { auth: { token: { key: keyPath } }, limits: { maxRequestBodySize: '2KiB' } } });
  });
  after(async function () {
    await reg?.stop();
    removeDir(keyDir);
  });

  const form = (fields: Record<string, string>): Promise<Response> => fetch(`${reg.url}/auth/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
  });

  it('issues tokens for the OAuth2 password grant, with a refresh token when asked for offline access', async function () {
    const res = await form({ grant_type: 'password', username: 'dev', password: 'dev-pw', service: 'berth-registry', scope: 'repository:x/y:pull,push', access_type: 'offline', client_id: 'test' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; refresh_token?: string; scope: string; token_type: string };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'repository:x/y:pull,push');
    assert.ok(body.refresh_token);
    assert.equal((await call(reg, 'POST', '/v2/x/y/blobs/uploads/', `Bearer ${body.access_token}`)).status, 202);
    assert.equal((await form({ grant_type: 'password', username: 'dev', password: 'nope', service: 'berth-registry' })).status, 401);
    assert.equal((await form({ grant_type: 'client_credentials', service: 'berth-registry' })).status, 400);
  });

  it('refuses a token request for another service and a form over the body limit', async function () {
    assert.equal((await fetch(`${reg.url}/auth/token?service=elsewhere&scope=repository:x/y:pull`, { headers: { Authorization: basic('dev', 'dev-pw') } })).status, 400);
    const big = await form({ grant_type: 'password', username: 'dev', password: 'x'.repeat(4096) });
    assert.equal(big.status, 413);
    assert.equal(await errorCode(big), 'SIZE_INVALID');
  });

  it('keeps tokens valid across a restart when the signing key is configured', async function () {
    const { body } = await fetchToken(reg.url, ['repository:x/y:pull'], { user: 'dev', password: 'dev-pw' });
    const root = join(reg.dir, 'data');
    await stopAndWait(reg.pid);
    const again = await startBerthRegistry({ root, args: ['--config', reg.configPath] });
    try {
      const res = await fetch(`${again.url}/v2/x/y/tags/list`, { headers: { Authorization: `Bearer ${body.token}` } });
      assert.equal(res.status, 404, 'the token is accepted; the repository is simply empty');
      assert.equal(await errorCode(res), 'NAME_UNKNOWN');
    } finally {
      await again.stop();
    }
  });
});
