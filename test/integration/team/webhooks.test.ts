/**
 * Webhooks as distribution sends them, received by a test HTTP server: push, pull, mount and delete
 * events in the envelope, retried after the endpoint fails twice, never holding up the request.
 */
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildImage, getManifest, pushBuilt } from '../../support/ociImage';
import { waitFor } from '../../support/proc';
import { startTeamRegistry, type TeamRegistry } from './teamRegistry';

interface Received {
  headers: IncomingMessage['headers'];
  body: { events: Array<Record<string, unknown> & { action: string; target: Record<string, unknown> }> };
  answered: number;
}

interface Listener {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** Answers each delivery with the next status of `statuses` (then 200); `hang` never answers. */
async function startListener(statuses: number[] | 'hang'): Promise<Listener> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (statuses === 'hang') {
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Received['body'], answered: 0 });
        hanging.push(res);
        return;
      }
      const status = statuses.shift() ?? 200;
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Received['body'], answered: status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    received,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const delivered = (l: Listener): Received['body']['events'] => l.received.filter((r) => r.answered === 200).flatMap((r) => r.body.events);

describe('webhooks', function () {
  let listener: Listener;
  let reg: TeamRegistry;
  before(async function () {
    listener = await startListener([500, 503]);
    reg = await startTeamRegistry({
      config: { notifications: { endpoints: [{ name: 'test', url: listener.url, headers: { Authorization: ['Bearer hook-secret'] }, timeout: '2s', threshold: 5, backoff: '200ms' }] } },
    });
  });
  after(async function () {
    await reg?.stop();
    await listener?.close();
  });

  it('delivers push, pull, mount and delete events in the envelope, retrying after two failures', async function () {
    const image = buildImage({ labels: { hook: 'yes' } });
    const pushed = await pushBuilt(reg.url, 'hooks/app', image, '1.4');
    assert.equal((await getManifest(reg.url, 'hooks/app', '1.4')).status, 200);
    const layer = image.layers[0]?.descriptor.digest ?? '';
    const mount = await fetch(`${reg.url}/v2/hooks/copy/blobs/uploads/?mount=${layer}&from=hooks/app`, { method: 'POST' });
    assert.equal(mount.status, 201);
    assert.equal((await fetch(`${reg.url}/v2/hooks/app/manifests/${pushed.digest}`, { method: 'DELETE' })).status, 202);

    const events = await waitFor('all events delivered', async () => {
      const got = delivered(listener);
      return got.some((e) => e.action === 'delete') && got.some((e) => e.action === 'mount') ? got : undefined;
    }, 30_000, 100);

    assert.deepEqual(listener.received.slice(0, 2).map((r) => r.answered), [500, 503], 'the first two deliveries failed');
    assert.deepEqual(listener.received[0]?.body.events, listener.received[2]?.body.events.slice(0, listener.received[0]?.body.events.length), 'the failed envelope was sent again');
    const first = listener.received[0];
    assert.equal(first?.headers['content-type'], 'application/vnd.docker.distribution.events.v2+json');
    assert.equal(first?.headers['authorization'], 'Bearer hook-secret');

    const manifestPush = events.find((e) => e.action === 'push' && e.target['tag'] === '1.4');
    assert.ok(manifestPush, 'a push event for the tagged manifest');
    assert.deepEqual(Object.keys(manifestPush).sort(), ['action', 'actor', 'id', 'request', 'source', 'target', 'timestamp']);
    assert.deepEqual(manifestPush.target, {
      mediaType: image.mediaType, digest: pushed.digest, size: image.bytes.length, length: image.bytes.length,
      repository: 'hooks/app', url: `http://${reg.host}/v2/hooks/app/manifests/${pushed.digest}`, tag: '1.4',
    });
    const request = manifestPush['request'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(request).sort(), ['addr', 'host', 'id', 'method', 'useragent']);
    assert.equal(request['method'], 'PUT');
    assert.ok(((manifestPush['source'] as Record<string, unknown>)['instanceID'] as string).length > 0);

    assert.equal(events.filter((e) => e.action === 'push' && e.target['mediaType'] === 'application/octet-stream').length, 2, 'config and layer pushes');
    assert.ok(events.some((e) => e.action === 'pull' && e.target['tag'] === '1.4'));
    const mountEvent = events.find((e) => e.action === 'mount');
    assert.deepEqual({ repository: mountEvent?.target['repository'], fromRepository: mountEvent?.target['fromRepository'], digest: mountEvent?.target['digest'] }, { repository: 'hooks/copy', fromRepository: 'hooks/app', digest: layer });
    const del = events.find((e) => e.action === 'delete');
    assert.deepEqual(del?.target, { digest: pushed.digest, repository: 'hooks/app' });

    const metrics = await (await fetch(`${reg.url}/metrics`)).text();
    assert.match(metrics, /^berth_notifications_pending\{endpoint="test"\} 0$/m);
    assert.match(metrics, /^berth_notifications_failed_attempts_total\{endpoint="test"\} 2$/m);
  });
});

describe('webhooks to an endpoint that never answers', function () {
  let listener: Listener;
  let reg: TeamRegistry;
  before(async function () {
    listener = await startListener('hang');
    reg = await startTeamRegistry({ config: { notifications: { endpoints: [{ name: 'stuck', url: listener.url, timeout: '30s', threshold: 1, backoff: '30s' }] } } });
  });
  after(async function () {
    await reg?.stop();
    await listener?.close();
  });

  it('still answers every push and pull while deliveries hang', async function () {
    await pushBuilt(reg.url, 'stuck/app', buildImage({ labels: { n: '1' } }), 'a');
    await waitFor('the endpoint to hold a delivery', async () => (listener.received.length > 0 ? true : undefined), 10_000, 50);
    for (const tag of ['b', 'c', 'd']) {
      await pushBuilt(reg.url, 'stuck/app', buildImage({ labels: { n: tag } }), tag);
      assert.equal((await getManifest(reg.url, 'stuck/app', tag)).status, 200);
    }
    assert.equal(listener.received.length, 1, 'deliveries are serial: the next waits for the hanging one');
    assert.match(await (await fetch(`${reg.url}/metrics`)).text(), /^berth_notifications_pending\{endpoint="stuck"\} (?:[1-9]\d*)$/m);
  });
});
