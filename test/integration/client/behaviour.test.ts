/**
 * Behaviours no real registry shows on demand (429 with Retry-After, 503 bursts, silence, redirects to
 * storage, Docker Hub's namespace API), served by small scripted HTTP servers on 127.0.0.1.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, isRegistryError, type RegistryClientOptions } from '../../../src/client';
import { freePort } from '../../support/proc';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Scripted {
  host: string;
  url: string;
  seen: Array<{ method: string; path: string; authorization: string | undefined }>;
  stop(): Promise<void>;
}

async function scripted(handler: Handler, port = 0): Promise<Scripted> {
  const seen: Scripted['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${bound}`, url: `http://127.0.0.1:${bound}`, seen,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function withServer(handler: Handler, opts: RegistryClientOptions, fn: (client: RegistryClient, server: Scripted) => Promise<void>): Promise<void> {
  const server = await scripted(handler);
  const client = new RegistryClient(opts);
  try {
    await fn(client, server);
  } finally {
    client.close();
    await server.stop();
  }
}

describe('registry client retries, timeouts and odd answers', () => {
  it('waits as Retry-After says on 429 and then succeeds', async () => {
    let calls = 0;
    const waits: number[] = [];
    await withServer((_req, res) => {
      calls++;
      if (calls === 1) json(res, 429, { errors: [{ code: 'TOOMANYREQUESTS' }] }, { 'Retry-After': '2' });
      else json(res, 200, { name: 'a', tags: ['v1'] });
    }, { sleep: async (ms) => void waits.push(ms) }, async (client, server) => {
      assert.deepEqual((await client.registry(server.host).tagsPage('a')).items, ['v1']);
      assert.deepEqual(waits, [2000]);
    });
  });

  it('backs off on a burst of 503s within the retry budget', async () => {
    let calls = 0;
    const waits: number[] = [];
    await withServer((_req, res) => {
      calls++;
      if (calls <= 3) json(res, 503, {});
      else json(res, 200, { name: 'a', tags: [] });
    }, { sleep: async (ms) => void waits.push(ms), retry: { maxRetries: 3, baseDelayMs: 100 } }, async (client, server) => {
      await client.registry(server.host).tagsPage('a');
      assert.equal(waits.length, 3);
      assert.ok(waits.every((w, i) => w <= 100 * 2 ** i && w >= 50 * 2 ** i), `exponential backoff with jitter: ${waits.join(', ')}`);
    });
  });

  it('gives up after the retry budget with a server error', async () => {
    await withServer((_req, res) => json(res, 502, {}), { sleep: async () => undefined, retry: { maxRetries: 2 } }, async (client, server) => {
      await assert.rejects(client.registry(server.host).tagsPage('a'), (e) => isRegistryError(e, 'server-error') && /try again later/.test(e.message));
      assert.equal(server.seen.length, 3);
    });
  });

  it('reports a long Retry-After as rate limited instead of sleeping through it', async () => {
    const waits: number[] = [];
    await withServer((_req, res) => json(res, 429, {}, { 'Retry-After': '3600' }), { sleep: async (ms) => void waits.push(ms) }, async (client, server) => {
      await assert.rejects(client.registry(server.host).tagsPage('a'), (e) => isRegistryError(e, 'rate-limited') && e.retryAfterMs === 3_600_000 && /3600 s/.test(e.message));
      assert.deepEqual(waits, []);
    });
  });

  it('reaches a local registry started after a first failed contact', async () => {
    const port = await freePort();
    const client = new RegistryClient({ retry: { maxRetries: 0 } });
    try {
      await assert.rejects(client.registry(`127.0.0.1:${port}`).checkCredentials(), (e) => isRegistryError(e, 'unreachable'));
      const server = await scripted((_req, res) => json(res, 200, {}), port);
      try {
        assert.equal((await client.registry(`127.0.0.1:${port}`).checkCredentials()).auth, 'anonymous');
      } finally {
        await server.stop();
      }
    } finally {
      client.close();
    }
  });

  it('times out a registry that never answers', async () => {
    await withServer(() => undefined, { timeoutMs: 300, retry: { maxRetries: 0 } }, async (client, server) => {
      await assert.rejects(client.registry(server.host).checkCredentials(), (e) => isRegistryError(e, 'timeout') && /did not answer/.test(e.message));
    });
  });

  const notRegistries: Array<{ name: string; handler: Handler }> = [
    { name: 'a web server without /v2/', handler: (_req, res) => { res.writeHead(404, { 'Content-Type': 'text/html' }); res.end('<html>nope</html>'); } },
    { name: 'a 401 without a challenge', handler: (_req, res) => { res.writeHead(401); res.end(); } },
  ];
  for (const { name, handler } of notRegistries) {
    it(`says ${name} is not a registry`, async () => {
      await withServer(handler, { retry: { maxRetries: 0 } }, async (client, server) => {
        await assert.rejects(client.registry(server.host).checkCredentials(), (e) => isRegistryError(e, 'not-a-registry'));
      });
    });
  }

  it('answers "catalog unsupported" where _catalog is refused, so the tree can offer to add by name', async () => {
    await withServer((_req, res) => json(res, 404, { errors: [{ code: 'UNSUPPORTED' }] }), { retry: { maxRetries: 0 } }, async (client, server) => {
      const result = await client.registry(server.host).catalogPage();
      assert.equal(result.kind, 'unsupported');
      assert.ok(result.kind === 'unsupported' && /Add repositories by name/.test(result.message));
    });
  });

  it('pages with n and last where a registry sends no Link, stopping after a short page', async () => {
    const tags = ['a', 'b', 'c', 'd', 'e'];
    await withServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const n = Number(url.searchParams.get('n'));
      const last = url.searchParams.get('last');
      const start = last ? tags.indexOf(last) + 1 : 0;
      json(res, 200, { name: 'r', tags: tags.slice(start, start + n) });
    }, {}, async (client, server) => {
      const seen: string[] = [];
      for await (const page of client.registry(server.host).tagsPages('r', { pageSize: 2 })) seen.push(...page.items);
      assert.deepEqual(seen, tags);
      assert.deepEqual(server.seen.map((s) => s.path).filter((p) => p.includes('tags')), ['/v2/r/tags/list?n=2', '/v2/r/tags/list?n=2&last=b', '/v2/r/tags/list?n=2&last=d']);
    });
  });

  it('ends at a full page without Link once the registry has paged with Link, even from a bare URL cursor', async () => {
    const tags = ['a', 'b', 'c', 'd'];
    await withServer((req, res) => {
      const last = new URL(req.url ?? '/', 'http://x').searchParams.get('last');
      if (!last) json(res, 200, { name: 'r', tags: tags.slice(0, 2) }, { Link: '</v2/r/tags/list?n=2&last=b>; rel="next"' });
      else json(res, 200, { name: 'r', tags: tags.slice(2) });
    }, {}, async (client, server) => {
      const reg = client.registry(server.host);
      const first = await reg.tagsPage('r', { pageSize: 2 });
      assert.ok(first.next);
      const second = await reg.tagsPage('r', { pageSize: 2, cursor: { url: first.next.url } });
      assert.deepEqual(second, { items: ['c', 'd'] });
    });
  });

  it('reports each registry warning once and otherwise ignores it', async () => {
    const warnings: string[] = [];
    await withServer((_req, res) => json(res, 200, { name: 'r', tags: ['v1'] }, { Warning: '299 - "This repository is deprecated."' }), {
      onWarning: ({ text }) => warnings.push(text),
    }, async (client, server) => {
      const reg = client.registry(server.host);
      assert.deepEqual((await reg.tagsPage('r')).items, ['v1']);
      await reg.tagsPage('r');
      assert.deepEqual(warnings, ['This repository is deprecated.']);
    });
  });

  it('keeps its own scheme and credentials when a registry names itself with another scheme in Link', async () => {
    await withServer((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' });
        return res.end();
      }
      const last = new URL(req.url ?? '/', 'http://x').searchParams.get('last');
      if (last) return json(res, 200, { repositories: ['c'] });
      json(res, 200, { repositories: ['a', 'b'] }, { Link: `<https://${req.headers.host}/v2/_catalog?n=2&last=b>; rel="next"` });
    }, { credentials: () => ({ username: 'u', password: 'p' }), retry: { maxRetries: 0 } }, async (client, server) => {
      const items: string[] = [];
      for await (const page of client.registry(server.host).catalogPages({ pageSize: 2 })) items.push(...page.items);
      assert.deepEqual(items, ['a', 'b', 'c']);
      assert.ok(server.seen.filter((s) => s.path.includes('last=b')).every((s) => s.authorization?.startsWith('Basic ')));
    });
  });

  it('does not send registry credentials to the storage a blob redirects to', async () => {
    const storage = await scripted((_req, res) => {
      res.writeHead(200, { 'Content-Length': '2' });
      res.end('{}');
    });
    try {
      await withServer((req, res) => {
        if (!req.headers.authorization) {
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' });
          return res.end();
        }
        res.writeHead(307, { Location: `${storage.url}/blob?sig=1` });
        res.end();
      }, { credentials: () => ({ username: 'u', password: 'p' }) }, async (client, server) => {
        const bytes = await client.registry(server.host).getBlobBytes('a', 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', 1024);
        assert.equal(bytes.toString(), '{}');
        assert.ok(server.seen.some((s) => s.authorization?.startsWith('Basic ')));
        assert.deepEqual(storage.seen.map((s) => s.authorization), [undefined]);
      });
    } finally {
      await storage.stop();
    }
  });
});

describe('Docker Hub repositories through its namespace API', () => {
  const hub: Handler = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (req.method === 'POST' && url.pathname === '/v2/users/login') return json(res, 200, { token: 'hub-jwt' });
    if (url.pathname === '/v2/namespaces/team/repositories') {
      const page = Number(url.searchParams.get('page') ?? '1');
      const names = page === 1 ? ['a', 'b'] : ['c'];
      const next = page === 1 ? `http://${req.headers.host}/v2/namespaces/team/repositories?page=2&page_size=2` : null;
      return json(res, 200, { count: 3, next, results: names.map((name) => ({ name, namespace: 'team' })) });
    }
    json(res, 404, {});
  };

  it('lists a namespace page by page, signed in with a Hub token', async () => {
    const server = await scripted(hub);
    const client = new RegistryClient({ dockerHubApiUrl: server.url, credentials: (r) => (r === 'docker.io' ? { username: 'me', password: 'pat' } : undefined) });
    try {
      const docker = client.registry('docker.io');
      const first = await docker.catalogPage({ namespace: 'team', pageSize: 2 });
      assert.ok(first.kind === 'page' && first.source === 'docker-hub');
      assert.deepEqual(first.page.items, ['team/a', 'team/b']);
      const second = await docker.catalogPage({ namespace: 'team', pageSize: 2, cursor: first.page.next });
      assert.ok(second.kind === 'page');
      assert.deepEqual(second.page.items, ['team/c']);
      assert.equal(second.page.next, undefined);
      const listings = server.seen.filter((s) => s.path.includes('/repositories'));
      assert.deepEqual(listings.map((s) => s.authorization), ['Bearer hub-jwt', 'Bearer hub-jwt']);
    } finally {
      client.close();
      await server.stop();
    }
  });

  it('asks for a namespace instead of pretending Docker Hub has a catalog', async () => {
    const client = new RegistryClient();
    const result = await client.registry('docker.io').catalogPage();
    assert.deepEqual(result.kind === 'unsupported' && result.reason, 'needs-namespace');
  });
});
