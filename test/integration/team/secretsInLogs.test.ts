/**
 * Secrets stay out of the registry's log, even at debug level: a webhook URL's user:password and query
 * token, and a password typed into the user-name field of a failed login. A webhook URL with
 * user:password delivers, with the credentials as an Authorization: Basic header.
 */
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildImage, pushBuilt } from '../../support/ociImage';
import { waitFor } from '../../support/proc';
import { basic, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const HOOK_PASSWORD = 'hook-pw-Zq81xT';
const HOOK_TOKEN = 'query-token-Kd93vb';
const TYPED_PASSWORD = 'typed-into-name-Pw77ee';

describe('secrets in the registry log and webhook credentials', function () {
  let receiver: Server;
  const requests: Array<{ authorization: string | undefined; url: string; events: number }> = [];
  let reg: TeamRegistry;

  before(async function () {
    receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { events?: unknown[] };
        requests.push({ authorization: req.headers.authorization, url: req.url ?? '', events: body.events?.length ?? 0 });
        res.statusCode = 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    reg = await startTeamRegistry({
      users: { alice: 'alice-pw' },
      config: {
        log: { level: 'debug' },
        auth: {},
        access: { rules: [{ repositories: ['hooks/**'], anonymous: true, actions: ['pull', 'push'] }] },
        notifications: { endpoints: [{ name: 'ci', url: `http://hook:${HOOK_PASSWORD}@127.0.0.1:${port}/events?token=${HOOK_TOKEN}`, timeout: '5s', backoff: '200ms' }] },
      },
    });
  });
  after(async function () {
    await reg?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((r) => receiver?.close(() => r()));
  });

  it('delivers to a webhook URL with user:password, sending them as Authorization: Basic, and keeps the query', async function () {
    await pushBuilt(reg.url, 'hooks/app', buildImage(), '1');
    await waitFor('an event delivery', async () => (requests.some((r) => r.events > 0) ? true : undefined), 30_000, 100);
    const got = requests.find((r) => r.events > 0);
    assert.equal(got?.authorization, basic('hook', HOOK_PASSWORD));
    assert.equal(got?.url, `/events?token=${HOOK_TOKEN}`);
  });

  it('logs the webhook URL redacted: neither its password nor its query token appear', function () {
    const out = reg.output();
    assert.match(out, /notifications endpoint/);
    assert.match(out, /"url":"http:\/\/127\.0\.0\.1:\d+\/events\?token=\*\*\*","basicAuth":true/);
    assert.ok(!out.includes(HOOK_PASSWORD), 'webhook password in the log');
    assert.ok(!out.includes(HOOK_TOKEN), 'webhook query token in the log');
  });

  it('never logs an unknown user name of a failed login verbatim, and still logs a known one', async function () {
    const typo = await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic(TYPED_PASSWORD, '') } });
    assert.equal(typo.status, 401);
    const wrong = await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic('alice', 'not-it') } });
    assert.equal(wrong.status, 401);
    await waitFor('both failed logins logged', async () => ((reg.output().match(/failed login/g) ?? []).length >= 2 ? true : undefined), 10_000, 50);
    const out = reg.output();
    assert.ok(!out.includes(TYPED_PASSWORD), 'a password typed as user name reached the log');
    assert.match(out, /"msg":"failed login","user":"unknown user \(sha256 [0-9a-f]{8}\)"/);
    assert.match(out, /"msg":"failed login","user":"alice"/);
    assert.ok(!out.includes('not-it'));
  });
});
