import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DockerCredentialStore } from '../../../src/credentials';
import { authForReference, connectEngine, Engine, EngineError, engineAuth, registryOfReference, type ProgressEvent } from '../../../src/engine';
import { startBerthRegistry } from '../../support/berthRegistry';
import { dockerBuildScratch } from '../../support/clients';
import { startDistribution } from '../../support/distribution';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { bigImageContext } from '../../support/images';
import { buildImage, buildIndex, layerOf, MULTI_PLATFORMS, pushBuilt, tarArchive } from '../../support/ociImage';
import { removeDir, sleep, tempDir, waitFor } from '../../support/proc';
import { startBerthTokenRegistry, startHtpasswdRegistry, type HtpasswdRegistry, type LoginRegistry } from '../credentials/fixtures';

interface Registry {
  url: string;
  host: string;
  stop(): Promise<void>;
}

const MANIFEST_ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';

async function manifestDigest(registry: Registry, repo: string, tag: string, authorization?: string): Promise<string | undefined> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD', headers: { accept: MANIFEST_ACCEPT, ...(authorization ? { authorization } : {}) },
  });
  return res.status === 200 ? res.headers.get('docker-content-digest') ?? undefined : undefined;
}

/** Checks the events of one transfer: per-layer and overall bytes never go down, and every layer ends done. */
function assertProgressSane(events: ProgressEvent[]): void {
  let lastOverall = -1;
  const perLayer = new Map<string, number>();
  for (const e of events) {
    assert.ok(e.overall.currentBytes >= lastOverall, 'overall bytes never go down');
    lastOverall = e.overall.currentBytes;
    assert.ok(e.overall.currentBytes <= e.overall.totalBytes || e.overall.totalBytes === 0);
    if (e.type === 'layer' && /^(Pushing|Downloading)/.test(e.layer.status) && e.layer.current !== undefined) {
      assert.ok(e.layer.current >= (perLayer.get(e.layer.id) ?? 0), `layer ${e.layer.id} bytes never go down`);
      perLayer.set(e.layer.id, e.layer.current);
    }
  }
  const last = events.at(-1)?.overall;
  assert.ok(last && last.layers > 0 && last.layersDone === last.layers, `every layer finished: ${JSON.stringify(last)}`);
}

describe('engine: a real dockerd pushing to and pulling from real registries', () => {
  let dockerd: Dockerd;
  let engine: Engine;
  let secured: HtpasswdRegistry;
  let tokenAuth: LoginRegistry;
  const registries: Record<string, Registry> = {};
  const source = 'berth-engine-test:1';

  before(async () => {
    const [d, dist, berth, sec, tok] = await Promise.all([startDockerd(), startDistribution(), startBerthRegistry(), startHtpasswdRegistry(), startBerthTokenRegistry()]);
    dockerd = d;
    secured = sec;
    tokenAuth = tok;
    registries['docker-registry'] = dist;
    registries['Berth registry'] = berth;
    await dockerBuildScratch(dockerd, source, { layers: 3, label: 'engine' });
    engine = await connectEngine({ socketPath: dockerd.socket });
  });
  after(async () => {
    await Promise.all([dockerd?.stop(), secured?.stop(), tokenAuth?.stop(), ...Object.values(registries).map((r) => r.stop())]);
  });

  it('lists local images with their tags, size and creation time', async () => {
    const images = await engine.listImages();
    const built = images.find((i) => i.tags.includes(source));
    assert.ok(built, `${source} is listed`);
    assert.match(built.id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(built.shortId, built.id.slice(7, 19));
    assert.ok(built.sizeBytes > 100_000, 'busybox makes it bigger than 100 kB');
    assert.ok(Math.abs(built.createdAt.getTime() - Date.now()) < 3_600_000);
    assert.equal(built.labels['org.opencontainers.image.title'], 'engine');
    const details = await engine.inspectImage(source);
    assert.equal(details.id, built.id);
    assert.equal(details.layers.length, 5, 'busybox, its applet links, three files');
  });

  for (const name of ['docker-registry', 'Berth registry']) {
    describe(`with the ${name}`, () => {
      const reg = (): Registry => registries[name] as Registry;

      it('tags and pushes with per-layer progress, and the registry holds the digest the engine reported', async () => {
        const target = `${reg().host}/engine/push:1`;
        await engine.tag(source, target);
        const events: ProgressEvent[] = [];
        const result = await engine.push(target, { onProgress: (e) => events.push(e) });
        assert.equal(result.reference, target);
        assert.match(result.digest ?? '', /^sha256:[a-f0-9]{64}$/);
        assert.equal(await manifestDigest(reg(), 'engine/push', '1'), result.digest);
        assertProgressSane(events);
        const layerIds = new Set(events.flatMap((e) => (e.type === 'layer' ? [e.layer.id] : [])));
        assert.equal(layerIds.size, 5, 'an event stream per layer');
        assert.ok(events.some((e) => e.type === 'layer' && e.layer.status === 'Pushing' && (e.layer.total ?? 0) > 0), 'byte counts reported');
        assert.ok(events.some((e) => e.type === 'digest' && e.digest === result.digest));
        assert.equal(result.layers.length, 5);
      });

      it('removes an image and pulls it back with progress', async () => {
        const built = `berth-engine-pull-${name.startsWith('B') ? 'b' : 'd'}:1`;
        await dockerBuildScratch(dockerd, built, { layers: 2, label: `pull-${name}` });
        const target = `${reg().host}/engine/pull:1`;
        await engine.tag(built, target);
        const pushed = await engine.push(target);
        const removed = await engine.remove(built);
        assert.deepEqual(removed.untagged, [built]);
        const gone = await engine.remove(target);
        assert.ok(gone.deleted.length > 0, 'the last tag took the image with it');
        assert.ok(!(await engine.listImages()).some((i) => i.tags.includes(target)));
        await assert.rejects(engine.inspectImage(target), (e: unknown) => e instanceof EngineError && e.kind === 'not-found');

        const events: ProgressEvent[] = [];
        const pulled = await engine.pull(target, { onProgress: (e) => events.push(e) });
        assert.equal(pulled.digest, pushed.digest);
        assert.match(pulled.status ?? '', /Downloaded newer image/);
        assertProgressSane(events);
        assert.ok(events.some((e) => e.type === 'layer' && e.layer.status === 'Pull complete'), 'new layers were downloaded');
        const back = (await engine.listImages()).find((i) => i.tags.includes(target));
        assert.ok(back?.digests.some((d) => d.endsWith(pushed.digest ?? '-')));
        const again = await engine.pull(target);
        assert.match(again.status ?? '', /Image is up to date/);
        const byDigest = await engine.pull(`${reg().host}/engine/pull@${pushed.digest ?? ''}`);
        assert.equal(byDigest.reference, `${reg().host}/engine/pull@${pushed.digest ?? ''}`);
        assert.equal(byDigest.digest, pushed.digest);
      });

      it('retags and pushes to another repository in one call', async () => {
        const target = `${reg().host}/engine/retagged:2`;
        const events: ProgressEvent[] = [];
        const result = await engine.retagAndPush(source, target, { onProgress: (e) => events.push(e) });
        assert.equal(result.source, source);
        assert.equal(result.reference, target);
        assert.equal(await manifestDigest(reg(), 'engine/retagged', '2'), result.digest);
        assert.ok((await engine.listImages()).some((i) => i.tags.includes(target) && i.tags.includes(source)));
        assertProgressSane(events);
      });

      it('reports a missing tag in the registry as not-found', async () => {
        await assert.rejects(engine.pull(`${reg().host}/engine/absent:nope`), (e: unknown) => e instanceof EngineError && e.kind === 'not-found');
      });
    });
  }

  it('pulls the platform asked for out of a multi-platform index', async () => {
    const reg = registries['docker-registry'] as Registry;
    const images = MULTI_PLATFORMS.map((platform) => buildImage({
      platform,
      layers: [layerOf(tarArchive({ 'arch.txt': `${platform.architecture}\n` }), { gzip: true })],
    }));
    await pushBuilt(reg.url, 'engine/multi', buildIndex({ images }), '1');
    const ref = `${reg.host}/engine/multi:1`;
    for (const [platform, architecture] of [['linux/arm64', 'arm64'], ['linux/arm/v7', 'arm'], ['linux/amd64', 'amd64']]) {
      const pulled = await engine.pull(ref, { platform });
      assert.match(pulled.status ?? '', /Downloaded newer image|Image is up to date/);
      assert.equal((await engine.inspectImage(ref)).architecture, architecture, platform);
    }
  });

  describe('cancelling a push', () => {
    const big = 'berth-engine-big:1';
    before(async () => {
      const ctx = bigImageContext(48);
      try {
        await dockerd.docker(['build', '-q', '-t', big, ctx], { timeoutMs: 180_000 });
      } finally {
        removeDir(ctx);
      }
    });

    it('stops at the first bytes when aborted, leaves no tag in the registry, and a later push completes', async () => {
      const reg = registries['docker-registry'] as Registry;
      const target = `${reg.host}/engine/cancel:1`;
      await engine.tag(big, target);
      const ac = new AbortController();
      const seen: ProgressEvent[] = [];
      const started = Date.now();
      await assert.rejects(engine.push(target, {
        signal: ac.signal,
        onProgress: (e) => {
          seen.push(e);
          if (e.type === 'layer' && e.layer.status === 'Pushing') ac.abort();
        },
      }), (e: unknown) => e instanceof EngineError && e.kind === 'cancelled' && /was cancelled/.test(e.message));
      assert.ok(seen.some((e) => e.type === 'layer' && e.layer.status === 'Pushing'));
      assert.ok(!seen.some((e) => e.type === 'digest'), 'the push never reached its manifest');
      assert.equal(await manifestDigest(reg, 'engine/cancel', '1'), undefined);
      // Had the engine gone on pushing without us, the whole 48 MiB would be in by now and the tag with it.
      await sleep(Math.max(3_000, 2 * (Date.now() - started)));
      assert.equal(await manifestDigest(reg, 'engine/cancel', '1'), undefined, 'the engine stopped, not just our reading');

      const events: ProgressEvent[] = [];
      const done = await engine.push(target, { onProgress: (e) => events.push(e) });
      assert.equal(await manifestDigest(reg, 'engine/cancel', '1'), done.digest);
      assertProgressSane(events);
      const bigLayer = events.filter((e) => e.type === 'layer' && e.layer.status === 'Pushing' && (e.layer.total ?? 0) > 40 * 1024 * 1024);
      assert.ok(bigLayer.length >= 2, 'the big layer reported its bytes more than once as they grew');
    });

    it('refuses to start when the signal is already aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(engine.push(`${(registries['docker-registry'] as Registry).host}/engine/cancel:1`, { signal: ac.signal }),
        (e: unknown) => e instanceof EngineError && e.kind === 'cancelled');
    });
  });

  for (const kind of ['docker-registry with htpasswd', 'Berth registry with token auth']) {
    describe(`a registry that wants a login: ${kind}`, () => {
      const reg = (): LoginRegistry => (kind.startsWith('docker') ? secured : tokenAuth);

      it('pushes and pulls with the credentials passed in', async () => {
        const target = `${reg().host}/engine/auth:1`;
        await engine.tag(source, target);
        const auth = engineAuth(registryOfReference(target), { username: reg().username, password: reg().password });
        const pushed = await engine.push(target, { auth });
        assert.match(pushed.digest ?? '', /^sha256:/);
        await engine.remove(target);
        const pulled = await engine.pull(target, { auth });
        assert.equal(pulled.digest, pushed.digest, 'the registry gives back what it stored');
      });

      it('pushes with what the docker CLI has stored for the registry (config.json)', async () => {
        const dir = tempDir('engine-cfg');
        try {
          const cli = new DockerCredentialStore({ configDir: dir, env: {} });
          const target = `${reg().host}/engine/cli-auth:1`;
          assert.equal(await authForReference(target, cli), undefined);
          await cli.store(reg().host, { username: reg().username, password: reg().password });
          const auth = await authForReference(target, cli);
          assert.deepEqual(auth, { serverAddress: reg().host, username: reg().username, password: reg().password });
          await engine.tag(source, target);
          assert.match((await engine.push(target, { auth })).digest ?? '', /^sha256:/);
        } finally {
          removeDir(dir);
        }
      });

      if (kind.startsWith('Berth')) {
        it('pushes with an identity (refresh) token, through the engine and through the docker CLI reading config.json', async () => {
          const basic = Buffer.from(`${reg().username}:${reg().password}`).toString('base64');
          const res = await fetch(`${reg().url}/auth/token?service=berth-test&offline_token=true`, { headers: { authorization: `Basic ${basic}` } });
          const refreshToken = ((await res.json()) as { refresh_token?: string }).refresh_token;
          assert.ok(refreshToken, 'the token endpoint hands out a refresh token');
          const target = `${reg().host}/engine/identity:1`;
          await engine.tag(source, target);
          const pushed = await engine.push(target, { auth: engineAuth(reg().host, { identityToken: refreshToken }) });
          assert.match(pushed.digest ?? '', /^sha256:/);

          mkdirSync(dockerd.configDir, { recursive: true });
          const cli = new DockerCredentialStore({ configDir: dockerd.configDir, env: {} });
          await cli.store(reg().host, { username: reg().username, identityToken: refreshToken });
          try {
            assert.equal((await cli.get(reg().host))?.identityToken, refreshToken);
            await dockerd.docker(['tag', source, `${reg().host}/engine/identity:cli`]);
            await dockerd.docker(['push', `${reg().host}/engine/identity:cli`]);
          } finally {
            await cli.erase(reg().host);
          }
        });
      }

      const refusals: Array<{ name: string; auth?: { username?: string; password?: string; identityToken?: string } }> = [
        { name: 'a wrong password', auth: { username: 'berth', password: 'wrong' } },
        { name: 'an unknown user', auth: { username: 'mallory', password: 'x' } },
        { name: 'a made-up identity token', auth: { identityToken: 'not-a-token' } },
        { name: 'no credentials' },
      ];
      describe('refusals', () => {
        // A fresh registry per refusal: Berth's failed-login limiter would otherwise answer the next one.
        let fresh: LoginRegistry;
        beforeEach(async () => {
          fresh = kind.startsWith('docker') ? await startHtpasswdRegistry() : await startBerthTokenRegistry();
        });
        afterEach(async () => {
          await fresh?.stop();
        });
        for (const { name, auth } of refusals) {
          it(`fails a push with ${name} as unauthorized`, async () => {
            const target = `${fresh.host}/engine/refused:1`;
            await engine.tag(source, target);
            await assert.rejects(engine.push(target, auth ? { auth: engineAuth(fresh.host, auth) } : {}), (e: unknown) =>
              e instanceof EngineError && e.kind === 'unauthorized' && /[Ss]ign in to the registry/.test(e.message));
          });
        }
      });
    });
  }

  it('reads a registry\'s failed-login limiter as rate-limited, with advice to wait', async () => {
    const limited = await startBerthTokenRegistry();
    try {
      const target = `${limited.host}/engine/limited:1`;
      await engine.tag(source, target);
      const kinds: string[] = [];
      for (let attempt = 0; attempt < 10 && !kinds.includes('rate-limited'); attempt++) {
        await engine.push(target, { auth: engineAuth(limited.host, { username: limited.username, password: `wrong-${attempt}` }) }).then(
          () => kinds.push('pushed'),
          (e: unknown) => {
            kinds.push(e instanceof EngineError ? e.kind : String(e));
            if (e instanceof EngineError && e.kind === 'rate-limited') assert.match(e.message, /Wait a while and try again/);
          });
      }
      assert.ok(kinds.includes('rate-limited'), kinds.join());
      assert.ok(kinds.every((k) => k === 'unauthorized' || k === 'rate-limited'), kinds.join());
    } finally {
      await limited.stop();
    }
  });

  describe('watching image events', () => {
    it('reports tag and untag as they happen and stops when aborted', async () => {
      const ac = new AbortController();
      const events: Array<{ action: string; name?: string }> = [];
      const watching = engine.watchImages((e) => events.push(e), { signal: ac.signal });
      const name = 'berth-engine-watched:1';
      // The watch request is in flight once the engine has accepted it; tag until the first event shows.
      await waitFor('the tag event', async () => {
        await engine.tag(source, name);
        return events.some((e) => e.action === 'tag' && e.name === name) ? true : undefined;
      }, 15_000, 200);
      await engine.remove(name);
      await waitFor('the untag event', async () => (events.some((e) => e.action === 'untag') ? true : undefined), 15_000);
      ac.abort();
      await watching;
    });
  });

  describe('failures a person has to act on', () => {
    it('names the socket when no engine is there', async () => {
      const bogus = join(dockerd.dir, 'nothing-here.sock');
      await assert.rejects(connectEngine({ socketPath: bogus, pingTimeoutMs: 2_000 }), (e: unknown) =>
        e instanceof EngineError && e.kind === 'no-engine' && e.message.includes(`unix://${bogus}`) && /Start Docker/.test(e.message));
      const lazy = new Engine({ socketPath: bogus });
      await assert.rejects(lazy.listImages(), (e: unknown) => e instanceof EngineError && e.kind === 'no-engine');
    });

    it('finds a rootless-style socket under XDG_RUNTIME_DIR when the default socket is missing', async () => {
      const runtime = tempDir('xdg');
      try {
        symlinkSync(dockerd.socket, join(runtime, 'docker.sock'));
        const found = await connectEngine({
          env: { XDG_RUNTIME_DIR: runtime, HOME: runtime },
          platform: 'linux',
          // Whatever this machine has at /var/run/docker.sock is not ours to talk to.
          exists: (p) => p !== '/var/run/docker.sock' && existsSync(p),
        });
        const resolved = found.resolved;
        assert.ok(!(resolved instanceof EngineError) && resolved.source === 'well-known socket');
        assert.equal(found.address, `unix://${join(runtime, 'docker.sock')}`);
        assert.ok((await found.listImages()).some((i) => i.tags.includes(source)));
      } finally {
        removeDir(runtime);
      }
    });

    it('finds the engine through DOCKER_HOST', async () => {
      const viaEnv = await connectEngine({ env: { DOCKER_HOST: dockerd.host } });
      assert.equal(viaEnv.address, dockerd.host);
      assert.match((await viaEnv.version()).apiVersion, /^\d+\.\d+$/);
    });

    it('reports tagging or pushing a missing local image as not-found', async () => {
      await assert.rejects(engine.tag('no-such-image:1', 'x/y:1'), (e: unknown) => e instanceof EngineError && e.kind === 'not-found');
      const reg = registries['docker-registry'] as Registry;
      await assert.rejects(engine.push(`${reg.host}/never/built:1`), (e: unknown) => e instanceof EngineError && e.kind === 'not-found');
    });

    it('reports a registry nobody listens on as registry-unreachable', async () => {
      const target = '127.0.0.1:1/engine/nowhere:1';
      await engine.tag(source, target);
      await assert.rejects(engine.push(target), (e: unknown) => e instanceof EngineError && e.kind === 'registry-unreachable');
    });

    it('refuses to remove an image that still has other tags without force, as conflict', async () => {
      const image = (await engine.listImages()).find((i) => i.tags.includes(source));
      assert.ok(image);
      await assert.rejects(engine.remove(image.id), (e: unknown) => e instanceof EngineError && e.kind === 'conflict');
    });
  });
});
