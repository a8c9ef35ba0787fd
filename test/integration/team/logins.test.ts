/**
 * Password guessing as an attacker does it, against a real server: from one address, from many
 * loopback addresses (127.0.0.x, each a different client to the server), and from behind the address
 * other users share.
 */
import { strict as assert } from 'node:assert';
import { Agent, request } from 'node:http';
import { basic, fetchToken, registryCli, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' };

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  /** The request went over a connection a previous request had opened (keep-alive). */
  reusedSocket: boolean;
}

/** GET /v2/ sent from `localAddress` (any 127.x.y.z works on Linux), with these credentials if any. */
function getBase(reg: TeamRegistry, localAddress: string, authorization: string | undefined, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${reg.url}/v2/`, { localAddress, agent, headers: authorization ? { Authorization: authorization } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const code = body ? (JSON.parse(body) as { errors?: Array<{ code: string }> }).errors?.[0]?.code : undefined;
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, code, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, reusedSocket: req.reusedSocket });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A login attempt on a connection of its own. */
const login = (reg: TeamRegistry, user: string, password: string, localAddress = '127.0.0.1'): Promise<Answer> =>
  getBase(reg, localAddress, basic(user, password), false);

describe('team registry failed logins', function () {
  let reg: TeamRegistry;
  beforeEach(async function () {
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, limits: { maxFailedLoginsPerMinute: 3 } } });
  });
  afterEach(async function () {
    await reg?.stop();
  });

  it("stops one client guessing one account, and lets everyone else behind that address log in", async function () {
    for (let i = 0; i < 3; i++) assert.equal((await login(reg, 'alice', `guess-${i}`)).status, 401);
    const limited = await login(reg, 'alice', 'alice-pw');
    assert.equal(limited.status, 429, 'the guessing pair is refused even the right password');
    assert.equal(limited.code, 'TOOMANYREQUESTS');
    assert.ok(Number(limited.retryAfter) >= 1);
    assert.equal((await login(reg, 'bob', 'bob-pw')).status, 200, 'another user at the same address');
    assert.equal((await login(reg, 'alice', 'alice-pw', '127.0.0.2')).status, 200, 'the same user from another address');
  });

  it('checks one guess at a time for an account guessed from many addresses, and still accepts its right password', async function () {
    for (let i = 0; i < 3; i++) assert.equal((await login(reg, 'alice', `guess-${i}`, `127.0.1.${i + 1}`)).status, 401);
    // The name is now hot: guesses from fresh addresses queue one behind the other, none is refused
    // while few wait, and the owner's right password, from yet another address, gets through.
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => login(reg, 'alice', `more-${i}`, `127.0.2.${i + 1}`)),
      login(reg, 'alice', 'alice-pw', '127.0.3.1'),
    ]);
    assert.deepEqual(answers.map((a) => a.status), [401, 401, 401, 401, 401, 401, 200]);
    assert.equal((await login(reg, 'carol', 'carol-pw', '127.0.1.1')).status, 200, 'other accounts from the guessing addresses');
  });

  it('refuses guesses past the queue of a hot account with 429 and a Retry-After, never with a server error', async function () {
    for (let i = 0; i < 3; i++) assert.equal((await login(reg, 'alice', `guess-${i}`, `127.0.4.${i + 1}`)).status, 401);
    // The guesser holds its connections open, so the server reads all its guesses at once and the queue
    // fills however loaded the machine is; how many guesses on new connections arrive before the first
    // check ends depends on how fast this process opens them.
    const agent = new Agent({ keepAlive: true });
    try {
      const addresses = Array.from({ length: 100 }, (_, i) => `127.0.5.${i + 1}`);
      // Without credentials GET /v2/ is answered 401 at once, without a password check, and the connection stays open.
      const opened = await Promise.all(addresses.map((address) => getBase(reg, address, undefined, agent)));
      assert.deepEqual([...new Set(opened.map((a) => a.status))], [401]);
      const answers = await Promise.all(addresses.map((address, i) => getBase(reg, address, basic('alice', `flood-${i}`), agent)));
      assert.ok(answers.every((a) => a.reusedSocket), 'every guess went over a connection opened before the flood');
      const statuses = new Set(answers.map((a) => a.status));
      assert.deepEqual([...statuses].sort(), [401, 429], `statuses: ${[...statuses].join(', ')}`);
      const refused = answers.filter((a) => a.status === 429);
      assert.ok(answers.length - refused.length >= 33, 'one guess checked and 32 waiting before any is refused');
      for (const a of refused) {
        assert.equal(a.code, 'TOOMANYREQUESTS');
        assert.equal(a.retryAfter, '1');
      }
    } finally {
      agent.destroy();
    }
    assert.equal((await login(reg, 'bob', 'bob-pw', '127.0.5.1')).status, 200, 'another account from a flooding address');
  });

  it('keeps taking in and answering other clients while the guesses at a hot account wait their turn', async function () {
    for (let i = 0; i < 3; i++) assert.equal((await login(reg, 'alice', `guess-${i}`, `127.0.4.${i + 1}`)).status, 401);
    const agent = new Agent({ keepAlive: true });
    try {
      // One guess more than the queue holds: its 429 says the server has read them all and is checking the rest.
      const guessers = Array.from({ length: 34 }, (_, i) => `127.0.6.${i + 1}`);
      await Promise.all(guessers.map((address) => getBase(reg, address, undefined, agent)));
      let checked = 0;
      const guesses = guessers.map((address, i) => getBase(reg, address, basic('alice', `wait-${i}`), agent).then((a) => {
        if (a.status === 401) checked++;
        return a;
      }));
      assert.equal((await Promise.race(guesses)).status, 429);
      // Thirty other clients connect now, each on a new connection, and ask for nothing that needs a password check.
      const others = await Promise.all(Array.from({ length: 30 }, (_, i) => getBase(reg, `127.0.7.${i + 1}`, undefined, false).then((a) => ({ status: a.status, checkedBefore: checked }))));
      assert.deepEqual([...new Set(others.map((o) => o.status))], [401]);
      const checkedBefore = Math.max(...others.map((o) => o.checkedBefore));
      assert.ok(checkedBefore < 5, `the other clients waited for ${checkedBefore} of the 33 queued guesses to be checked`);
      assert.deepEqual((await Promise.all(guesses)).map((a) => a.status).sort(), [...Array(33).fill(401), 429]);
    } finally {
      agent.destroy();
    }
  });
});

describe('team registry tokens after a password change or removal', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({ users: USERS, config: { auth: { token: { expiration: '5m' } } } });
  });
  after(async function () {
    await reg?.stop();
  });

  const refresh = (token: string): Promise<Response> => fetch(`${reg.url}/auth/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, service: 'berth-registry', scope: 'repository:x:pull' }).toString(),
  });
  const v2 = (token: string): Promise<Response> => fetch(`${reg.url}/v2/`, { headers: { Authorization: `Bearer ${token}` } });

  async function tokens(user: string, password: string): Promise<{ access: string; refresh: string }> {
    const { status, body } = await fetchToken(reg.url, [], { user, password }, { offline_token: 'true' });
    assert.equal(status, 200);
    assert.ok(body.refresh_token);
    return { access: body.token, refresh: body.refresh_token };
  }

  const changes: Array<{ what: string; user: keyof typeof USERS; change: (user: string) => Promise<unknown> }> = [
    { what: 'the password changes', user: 'alice', change: (u) => registryCli(['user', 'add', u, '--htpasswd', reg.htpasswd], 'a-new-password\n') },
    { what: 'the user is removed', user: 'bob', change: (u) => registryCli(['user', 'remove', u, '--htpasswd', reg.htpasswd]) },
    {
      what: 'the user is removed and added again with another password', user: 'carol',
      change: async (u) => {
        await registryCli(['user', 'remove', u, '--htpasswd', reg.htpasswd]);
        await registryCli(['user', 'add', u, '--htpasswd', reg.htpasswd], 'carol-again\n');
      },
    },
  ];
  for (const t of changes) {
    it(`ends refresh and access tokens when ${t.what}`, async function () {
      const before = await tokens(t.user, USERS[t.user]);
      const ok = await refresh(before.refresh);
      assert.equal(ok.status, 200, await ok.text());
      assert.equal((await v2(before.access)).status, 200);
      await t.change(t.user);
      const refused = await refresh(before.refresh);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_grant');
      const denied = await v2(before.access);
      assert.equal(denied.status, 401);
      assert.match(denied.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });
  }

  it('keeps tokens of users whose password did not change', async function () {
    await registryCli(['user', 'add', 'dave', '--htpasswd', reg.htpasswd], 'dave-pw\n');
    const t = await tokens('dave', 'dave-pw');
    await registryCli(['user', 'add', 'erin', '--htpasswd', reg.htpasswd], 'erin-pw\n');
    assert.equal((await refresh(t.refresh)).status, 200);
    assert.equal((await v2(t.access)).status, 200);
  });
});
