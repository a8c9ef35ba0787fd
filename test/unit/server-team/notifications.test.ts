import * as assert from 'node:assert/strict';
import type { RegistryEvent } from '../../../src/server/hooks';
import { EndpointQueue, EVENTS_MEDIA_TYPE, Notifier, readNotificationsConfig, toWireEvent, type EndpointConfig, type PostFn, type WireEvent } from '../../../src/server/notifications/notifications';

const event = (over: Partial<RegistryEvent> = {}): RegistryEvent => ({
  id: 'e1', timestamp: '2026-01-02T03:04:05.000Z', action: 'push', repository: 'team-a/api',
  target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:abc', size: 708, repository: 'team-a/api', url: 'http://127.0.0.1:5000/v2/team-a/api/manifests/sha256:abc', tag: '1.4' },
  request: { id: 'r1', addr: '127.0.0.1:40000', host: '127.0.0.1:5000', method: 'PUT', useragent: 'docker/27' },
  actor: { name: 'alice' },
  ...over,
});

const endpoint = (over: Partial<EndpointConfig> = {}): EndpointConfig => ({
  name: 'e', url: 'http://127.0.0.1:1/hook', headers: { Authorization: ['Bearer x'] }, timeoutMs: 100, threshold: 3, backoffMs: 1000,
  ignoredMediaTypes: [], ignoredActions: [], maxQueuedEvents: 100, ...over,
});

const wire = (id: string): WireEvent => toWireEvent(event({ id }), { addr: 'h:1', instanceID: 'i' });

describe('notifications: config', () => {
  it("reads distribution's endpoint fields with durations and header lists", () => {
    const c = readNotificationsConfig({ endpoints: [{ name: 'a', url: 'http://h/x', headers: { Authorization: ['Bearer t'], 'X-One': 'v' }, timeout: '500ms', threshold: 5, backoff: '1s' }, { name: 'off', url: 'http://h/y', disabled: true }] });
    assert.equal(c.endpoints.length, 1);
    assert.deepEqual({ ...c.endpoints[0] }, { name: 'a', url: 'http://h/x', headers: { Authorization: ['Bearer t'], 'X-One': ['v'] }, timeoutMs: 500, threshold: 5, backoffMs: 1000, ignoredMediaTypes: [], ignoredActions: [], maxQueuedEvents: 10_000 });
  });
  const bad: Array<{ input: unknown; message: RegExp }> = [
    { input: { endpoints: [{ url: 'http://h' }] }, message: /^notifications\.endpoints\[0\]\.name: is required/ },
    { input: { endpoints: [{ name: 'a', url: 'ftp://h' }] }, message: /^notifications\.endpoints\[0\]\.url:/ },
    { input: { endpoints: [{ name: 'a', url: 'http://h', timeout: 'fast' }] }, message: /^notifications\.endpoints\[0\]\.timeout: "fast" is not a duration/ },
    { input: { endpoints: [{ name: 'a', url: 'http://h' }, { name: 'a', url: 'http://i' }] }, message: /two endpoints are named "a"/ },
  ];
  for (const { input, message } of bad) it(`rejects ${JSON.stringify(input).slice(0, 70)}`, () => assert.throws(() => readNotificationsConfig(input), { message }));
});

describe('notifications: events', () => {
  it("uses distribution's field names, with size and length both set", () => {
    const w = toWireEvent(event(), { addr: 'reg:5000', instanceID: 'inst' });
    assert.deepEqual(w, {
      id: 'e1', timestamp: '2026-01-02T03:04:05.000Z', action: 'push',
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:abc', size: 708, length: 708, repository: 'team-a/api', url: 'http://127.0.0.1:5000/v2/team-a/api/manifests/sha256:abc', tag: '1.4' },
      request: { id: 'r1', addr: '127.0.0.1:40000', host: '127.0.0.1:5000', method: 'PUT', useragent: 'docker/27' },
      actor: { name: 'alice' }, source: { addr: 'reg:5000', instanceID: 'inst' },
    });
  });
  it('sends only digest and repository for a delete', () => {
    const w = toWireEvent(event({ action: 'delete', target: { ...event().target, tag: undefined } }), { addr: 'a', instanceID: 'i' });
    assert.deepEqual(w.target, { digest: 'sha256:abc', repository: 'team-a/api' });
  });
  it('names the source repository of a mount in the target', () => {
    const w = toWireEvent(event({ action: 'mount', fromRepository: 'base/img' }), { addr: 'a', instanceID: 'i' });
    assert.equal(w.target.fromRepository, 'base/img');
  });
});

describe('notifications: delivery', () => {
  it('posts envelopes with the media type and configured headers, and retries until the endpoint succeeds', async () => {
    const statuses = [500, 503, 202];
    const posts: Array<{ headers: Record<string, string>; body: string }> = [];
    const sleeps: number[] = [];
    const post: PostFn = async (_url, init) => {
      posts.push(init);
      return statuses.shift() ?? 202;
    };
    const q = new EndpointQueue(endpoint(), post, async (ms) => void sleeps.push(ms));
    q.enqueue(wire('a'));
    await q.drain(1000);
    assert.equal(posts.length, 3);
    assert.equal(posts[0]?.headers['Content-Type'], EVENTS_MEDIA_TYPE);
    assert.equal(posts[0]?.headers['Authorization'], 'Bearer x');
    assert.deepEqual((JSON.parse(posts[2]?.body ?? '{}') as { events: WireEvent[] }).events.map((e) => e.id), ['a']);
    assert.deepEqual({ successes: q.stats.successes, failures: q.stats.failures, pending: q.stats.pending }, { successes: 1, failures: 2, pending: 0 });
    assert.deepEqual(sleeps, [100, 200]);
  });

  it('backs off for the configured time after threshold failures in a row', async () => {
    let calls = 0;
    const sleeps: number[] = [];
    const q = new EndpointQueue(endpoint({ threshold: 2, backoffMs: 5000 }), async () => (++calls > 4 ? 200 : 500), async (ms) => void sleeps.push(ms));
    q.enqueue(wire('a'));
    await q.drain(1000);
    assert.deepEqual(sleeps, [100, 5000, 5000, 5000]);
  });

  it('counts network errors separately from failing statuses', async () => {
    let calls = 0;
    const q = new EndpointQueue(endpoint(), async () => {
      if (++calls === 1) throw new Error('ECONNREFUSED');
      return 200;
    }, async () => undefined);
    q.enqueue(wire('a'));
    await q.drain(1000);
    assert.deepEqual({ errors: q.stats.errors, failures: q.stats.failures, successes: q.stats.successes }, { errors: 1, failures: 0, successes: 1 });
  });

  it('keeps the queue bounded by dropping the oldest events', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const delivered: string[] = [];
    const q = new EndpointQueue(endpoint({ maxQueuedEvents: 3 }), async (_u, init) => {
      await gate;
      delivered.push(...(JSON.parse(init.body) as { events: WireEvent[] }).events.map((e) => e.id));
      return 200;
    }, async () => undefined);
    for (const id of ['1', '2', '3', '4', '5']) q.enqueue(wire(id));
    assert.equal(q.stats.dropped, 2);
    release();
    await q.drain(1000);
    // '1' was already in flight when the queue overflowed; '2' was the oldest waiting.
    assert.deepEqual(delivered, ['1', '3', '4', '5']);
  });

  it('skips ignored actions and media types', () => {
    const q = new EndpointQueue(endpoint({ ignoredActions: ['pull'], ignoredMediaTypes: ['application/octet-stream'] }), async () => new Promise<number>(() => undefined));
    q.enqueue(toWireEvent(event({ action: 'pull' }), { addr: 'a', instanceID: 'i' }));
    q.enqueue(toWireEvent(event({ target: { ...event().target, mediaType: 'application/octet-stream' } }), { addr: 'a', instanceID: 'i' }));
    assert.equal(q.stats.events, 0);
  });

  it('queues without waiting for the endpoint, even one that never answers', () => {
    const n = new Notifier({ endpoints: [endpoint()] }, () => 'h:1', () => new Promise<number>(() => undefined));
    for (let i = 0; i < 50; i++) n.onEvent(event({ id: String(i) }));
    assert.equal(n.queues[0]?.stats.events, 50);
  });
});
