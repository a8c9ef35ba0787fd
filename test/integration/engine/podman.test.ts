import * as assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectEngine, Engine, EngineError, engineAuth, type ProgressEvent } from '../../../src/engine';
import { buildahScratch, containerTools, type ContainerTools } from '../../support/clients';
import { startDistribution, type Distribution } from '../../support/distribution';
import { startProcess, stopAndWait, type Started } from '../../support/proc';
import { startHtpasswdRegistry, type HtpasswdRegistry } from '../credentials/fixtures';

/**
 * Podman's Docker-compatible API is what many people point DOCKER_HOST at; its progress stream is
 * worded differently from dockerd's (no aux digest, no byte counts), so it proves the parser is not
 * fitted to one engine.
 */
describe('engine: Podman\'s Docker-compatible API', () => {
  let tools: ContainerTools;
  let service: Started;
  let registry: Distribution;
  let secured: HtpasswdRegistry;
  let engine: Engine;
  const local = 'localhost/berth-podman:1';

  before(async () => {
    tools = containerTools();
    [registry, secured] = await Promise.all([startDistribution(), startHtpasswdRegistry()]);
    appendFileSync(join(tools.dir, 'registries.conf'),
      [registry, secured].map((r) => `\n[[registry]]\nlocation = "${r.host}"\ninsecure = true\n`).join(''));
    const socket = join(tools.dir, 'podman.sock');
    service = await startProcess('podman', [...tools.storageArgs, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--log-level=info',
      'system', 'service', '--time=0', `unix://${socket}`], /API service listening on/, { env: tools.env, cwd: tools.dir });
    await buildahScratch(tools, local, { layers: 2, label: 'podman' });
    engine = await connectEngine({ socketPath: socket });
  });
  after(async () => {
    await stopAndWait(service?.pid);
    await Promise.all([registry?.stop(), secured?.stop()]);
    await tools?.cleanup();
  });

  const manifestDigest = async (r: Distribution, repo: string, tag: string, authorization?: string): Promise<string | null> => {
    const res = await fetch(`${r.url}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json', ...(authorization ? { authorization } : {}) },
    });
    return res.status === 200 ? res.headers.get('docker-content-digest') : null;
  };

  it('lists, tags and pushes, taking the digest from Podman\'s status line', async () => {
    assert.ok((await engine.listImages()).some((i) => i.tags.includes(local)));
    const target = `${registry.host}/podman/app:1`;
    await engine.tag(local, target);
    const events: ProgressEvent[] = [];
    const pushed = await engine.push(target, { onProgress: (e) => events.push(e) });
    assert.match(pushed.digest ?? '', /^sha256:[a-f0-9]{64}$/);
    assert.equal(await manifestDigest(registry, 'podman/app', '1'), pushed.digest);
    assert.equal(events.filter((e) => e.type === 'digest').length, 1);
  });

  it('removes and pulls back with per-layer events', async () => {
    const target = `${registry.host}/podman/pull:1`;
    await engine.tag(local, target);
    await engine.push(target);
    await engine.remove(target);
    assert.ok(!(await engine.listImages()).some((i) => i.tags.includes(target)));
    const events: ProgressEvent[] = [];
    await engine.pull(target, { onProgress: (e) => events.push(e) });
    assert.ok((await engine.listImages()).some((i) => i.tags.includes(target)));
    const last = events.at(-1)?.overall;
    assert.ok(last && last.layers > 0 && last.layersDone === last.layers, JSON.stringify(last));
  });

  it('types a missing tag as not-found and refused credentials as unauthorized', async () => {
    await assert.rejects(engine.pull(`${registry.host}/podman/absent:1`), (e: unknown) => e instanceof EngineError && e.kind === 'not-found');
    const target = `${secured.host}/podman/auth:1`;
    await engine.tag(local, target);
    await assert.rejects(engine.push(target, { auth: engineAuth(secured.host, { username: secured.username, password: 'wrong' }) }), (e: unknown) =>
      e instanceof EngineError && e.kind === 'unauthorized');
    const pushed = await engine.push(target, { auth: engineAuth(secured.host, { username: secured.username, password: secured.password }) });
    const basic = `Basic ${Buffer.from(`${secured.username}:${secured.password}`).toString('base64')}`;
    assert.equal(await manifestDigest(secured, 'podman/auth', '1', basic), pushed.digest);
  });
});
