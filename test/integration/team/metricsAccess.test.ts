/**
 * /metrics follows the access rules when authentication is on: a scrape without credentials gets a
 * challenge, a signed-in user without the access.metrics grant gets 403; /healthz stays open.
 */
import { strict as assert } from 'node:assert';
import { basic, errorCode, fetchToken, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { prom: 'prom-pw', alice: 'alice-pw', olga: 'olga-pw' };
const ACCESS = {
  groups: { ops: ['olga'] },
  rules: [{ repositories: ['**'], users: ['alice', 'prom', 'olga'], actions: ['pull', 'push'] }],
  metrics: { users: ['prom'], groups: ['ops'] },
};

const MODES = [
  { name: 'Basic auth', auth: {} },
  { name: 'token auth', auth: { token: { expiration: '5m' } } },
];

for (const mode of MODES) {
  describe(`/metrics with ${mode.name} and access.metrics`, function () {
    let reg: TeamRegistry;
    before(async function () {
      reg = await startTeamRegistry({ users: USERS, config: { auth: mode.auth, access: ACCESS } });
    });
    after(async function () {
      await reg?.stop();
    });

    const cases: Array<{ who: string; headers: () => Record<string, string>; status: number }> = [
      { who: 'no credentials', headers: () => ({}), status: 401 },
      { who: 'a wrong password', headers: () => ({ Authorization: basic('prom', 'nope') }), status: 401 },
      { who: 'a user who may push but holds no metrics grant', headers: () => ({ Authorization: basic('alice', USERS.alice) }), status: 403 },
      { who: 'a user named in access.metrics.users', headers: () => ({ Authorization: basic('prom', USERS.prom) }), status: 200 },
      { who: 'a member of a group in access.metrics.groups', headers: () => ({ Authorization: basic('olga', USERS.olga) }), status: 200 },
    ];
    for (const c of cases) {
      it(`answers /metrics for ${c.who} with ${c.status}`, async function () {
        for (const method of ['GET', 'HEAD']) {
          const res = await fetch(`${reg.url}/metrics`, { method, headers: c.headers() });
          assert.equal(res.status, c.status, `${method}`);
          const body = await res.text();
          if (c.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^(Basic|Bearer) realm=/);
          if (c.status === 200 && method === 'GET') assert.match(body, /^berth_/m);
          else assert.doesNotMatch(body, /^berth_/m, 'no metrics leak in a refusal');
          if (c.status === 403 && method === 'GET') assert.equal(JSON.parse(body).errors[0].code, 'DENIED');
        }
      });
    }

    it('keeps /healthz open without credentials', async function () {
      const res = await fetch(`${reg.url}/healthz`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'ok');
    });

    if (mode.auth.token) {
      it('issues a bearer token for registry:metrics:* only to granted users, and /metrics accepts it', async function () {
        const prom = await fetchToken(reg.url, ['registry:metrics:*'], { user: 'prom', password: USERS.prom });
        assert.equal(prom.status, 200);
        const ok = await fetch(`${reg.url}/metrics`, { headers: { Authorization: `Bearer ${prom.body.token}` } });
        assert.equal(ok.status, 200);
        const alice = await fetchToken(reg.url, ['registry:metrics:*'], { user: 'alice', password: USERS.alice });
        const denied = await fetch(`${reg.url}/metrics`, { headers: { Authorization: `Bearer ${alice.body.token}` } });
        assert.equal(denied.status, 403);
        assert.equal(await errorCode(denied), 'DENIED');
      });
    }
  });
}

describe('/metrics without an access.metrics grant', function () {
  const regs: TeamRegistry[] = [];
  after(async function () {
    for (const r of regs) await r.stop();
  });

  it('lets every signed-in user read /metrics when auth is on without an access section, but not anonymous callers', async function () {
    const reg = await startTeamRegistry({ users: { alice: 'alice-pw' }, config: { auth: {} } });
    regs.push(reg);
    assert.equal((await fetch(`${reg.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${reg.url}/metrics`, { headers: { Authorization: basic('alice', 'alice-pw') } })).status, 200);
  });

  it('denies everyone /metrics when access rules exist but name no metrics grant, even with anonymous pull rules', async function () {
    const reg = await startTeamRegistry({ users: { alice: 'alice-pw' }, config: { auth: {}, access: { rules: [{ repositories: ['**'], users: ['alice'], actions: ['*'] }, { repositories: ['public/**'], anonymous: true, actions: ['pull'] }] } } });
    regs.push(reg);
    assert.equal((await fetch(`${reg.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${reg.url}/metrics`, { headers: { Authorization: basic('alice', 'alice-pw') } })).status, 403);
  });

  it('keeps /metrics open when auth is off', async function () {
    const reg = await startTeamRegistry();
    regs.push(reg);
    const res = await fetch(`${reg.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^berth_/m);
  });

  it('refuses to start with access.metrics naming an undefined group, saying which', async function () {
    await assert.rejects(startTeamRegistry({ users: { alice: 'alice-pw' }, config: { auth: {}, access: { rules: [{ repositories: ['**'], users: ['alice'], actions: ['*'] }], metrics: { groups: ['nope'] } } } }), /access\.metrics\.groups.*"nope"/s);
  });
});
