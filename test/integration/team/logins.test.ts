/**
 * Password guessing as an attacker does it, against a real server: from one address, from many
 * loopback addresses (127.0.0.x, each a different client to the server), and from behind the address
 * other users share.
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { basic, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' };

/** GET /v2/ with Basic credentials, sent from `localAddress` (any 127.x.y.z works on Linux). */
function login(reg: TeamRegistry, user: string, password: string, localAddress = '127.0.0.1'): Promise<{ status: number; code: string | undefined; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${reg.url}/v2/`, { localAddress, agent: false, headers: { Authorization: basic(user, password) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const code = body ? (JSON.parse(body) as { errors?: Array<{ code: string }> }).errors?.[0]?.code : undefined;
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, code, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

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
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => login(reg, 'alice', `flood-${i}`, `127.0.5.${i + 1}`)));
    const statuses = new Set(answers.map((a) => a.status));
    assert.deepEqual([...statuses].sort(), [401, 429], `statuses: ${[...statuses].join(', ')}`);
    for (const a of answers.filter((x) => x.status === 429)) {
      assert.equal(a.code, 'TOOMANYREQUESTS');
      assert.equal(a.retryAfter, '1');
    }
    assert.equal((await login(reg, 'bob', 'bob-pw', '127.0.5.1')).status, 200, 'another account from a flooding address');
  });
});
