import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EndpointError, parseDockerHost, resolveEngineEndpoint } from '../../../src/engine/endpoint';
import { Engine, registryOfReference, splitImageReference } from '../../../src/engine/engine';
import { EngineError } from '../../../src/engine/errors';

describe('engine: where the engine is', () => {
  const table: Array<{ name: string; opts: Parameters<typeof resolveEngineEndpoint>[0]; display: string; source: string }> = [
    { name: 'the default socket', opts: { env: {}, platform: 'linux' }, display: 'unix:///var/run/docker.sock', source: 'default' },
    { name: 'the Windows pipe', opts: { env: {}, platform: 'win32' }, display: 'npipe:////./pipe/docker_engine', source: 'default' },
    { name: 'DOCKER_HOST unix', opts: { env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' } }, display: 'unix:///run/user/1000/docker.sock', source: 'DOCKER_HOST' },
    { name: 'DOCKER_HOST tcp', opts: { env: { DOCKER_HOST: 'tcp://10.0.0.5:2375' } }, display: 'tcp://10.0.0.5:2375', source: 'DOCKER_HOST' },
    { name: 'an explicit socket over DOCKER_HOST', opts: { socketPath: '/tmp/d.sock', env: { DOCKER_HOST: 'tcp://x:1' } }, display: 'unix:///tmp/d.sock', source: 'socketPath' },
    { name: 'an explicit host over DOCKER_HOST', opts: { dockerHost: 'unix:///a.sock', env: { DOCKER_HOST: 'tcp://x:1' } }, display: 'unix:///a.sock', source: 'dockerHost' },
    { name: 'ssh', opts: { env: { DOCKER_HOST: 'ssh://me@build.example:2222' } }, display: 'ssh://me@build.example:2222', source: 'DOCKER_HOST' },
  ];
  for (const { name, opts, display, source } of table) {
    it(`resolves ${name}`, () => {
      const r = resolveEngineEndpoint(opts);
      assert.equal(r.display, display);
      assert.equal(r.source, source);
    });
  }

  const fallbacks: Array<{ present: string[]; expected: string; source: string }> = [
    { present: ['/var/run/docker.sock', '/run/user/1000/docker.sock'], expected: 'unix:///var/run/docker.sock', source: 'default' },
    { present: ['/run/user/1000/docker.sock', '/home/me/.docker/run/docker.sock'], expected: 'unix:///run/user/1000/docker.sock', source: 'well-known socket' },
    { present: ['/home/me/.docker/run/docker.sock'], expected: 'unix:///home/me/.docker/run/docker.sock', source: 'well-known socket' },
    { present: ['/home/me/.docker/desktop/docker.sock'], expected: 'unix:///home/me/.docker/desktop/docker.sock', source: 'well-known socket' },
    { present: ['/run/user/1000/podman/podman.sock'], expected: 'unix:///run/user/1000/podman/podman.sock', source: 'well-known socket' },
    { present: [], expected: 'unix:///var/run/docker.sock', source: 'default' },
  ];
  for (const { present, expected, source } of fallbacks) {
    it(`with ${present.length ? present.join(', ') : 'no socket'} present, uses ${expected}`, () => {
      const r = resolveEngineEndpoint({ env: { HOME: '/home/me', XDG_RUNTIME_DIR: '/run/user/1000' }, platform: 'linux', exists: (p) => present.includes(p) });
      assert.equal(r.display, expected);
      assert.equal(r.source, source);
    });
  }

  it('uses TLS with the cert folder when DOCKER_TLS_VERIFY is set, defaulting to port 2376', () => {
    assert.deepEqual(parseDockerHost('tcp://h', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }), {
      kind: 'tcp', protocol: 'https', host: 'h', port: 2376, tls: { caPath: '/certs/ca.pem', certPath: '/certs/cert.pem', keyPath: '/certs/key.pem' },
    });
    assert.deepEqual(parseDockerHost('tcp://h', {}), { kind: 'tcp', protocol: 'http', host: 'h', port: 2375 });
  });

  it('refuses a host it cannot speak to with a hint', () => {
    assert.throws(() => parseDockerHost('ftp://h'), (e: unknown) => e instanceof EndpointError && /unix:\/\/, tcp:\/\//.test(e.message));
    assert.throws(() => parseDockerHost('tcp://'), EndpointError);
  });

  const contextFiles = (name: string, host: string | undefined): Record<string, string> => {
    const id = createHash('sha256').update(name).digest('hex');
    const files: Record<string, string> = { '/cfg/config.json': JSON.stringify({ currentContext: name }) };
    if (host) files[`/cfg/contexts/meta/${id}/meta.json`] = JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } });
    return files;
  };

  it('follows the current docker context from config.json, and DOCKER_CONTEXT over it', () => {
    const files = { ...contextFiles('desktop-linux', 'unix:///home/me/.docker/desktop/docker.sock'), ...contextFiles('rootless', 'unix:///run/user/1000/docker.sock') };
    files['/cfg/config.json'] = JSON.stringify({ currentContext: 'desktop-linux' });
    const readText = (p: string): string | undefined => files[p];
    const r = resolveEngineEndpoint({ env: {}, configDir: '/cfg', readText });
    assert.equal(r.display, 'unix:///home/me/.docker/desktop/docker.sock');
    assert.equal(r.source, 'context');
    assert.equal(resolveEngineEndpoint({ env: { DOCKER_CONTEXT: 'rootless' }, configDir: '/cfg', readText }).display, 'unix:///run/user/1000/docker.sock');
    assert.equal(resolveEngineEndpoint({ env: { DOCKER_CONTEXT: 'default' }, configDir: '/cfg', readText, platform: 'linux' }).source, 'default');
  });

  it('says how to fix a selected context that does not exist', () => {
    const files = contextFiles('gone', undefined);
    assert.throws(() => resolveEngineEndpoint({ env: {}, configDir: '/cfg', readText: (p) => files[p] }), (e: unknown) =>
      e instanceof EndpointError && /docker context use default/.test(e.message));
  });
});

describe('engine: an unusable engine setting', () => {
  it('does not throw on construction and fails the first call as no-engine with the fix', async () => {
    const engine = new Engine({ dockerHost: 'ftp://build.example' });
    assert.equal(engine.address, 'ftp://build.example');
    assert.ok(engine.resolved instanceof EngineError);
    await assert.rejects(engine.listImages(), (e: unknown) => e instanceof EngineError && e.kind === 'no-engine'
      && /No Docker engine to talk to: "ftp:\/\/build\.example" uses ftp:\/\/ .* use unix:\/\/, tcp:\/\/, npipe:\/\/ or ssh:\/\//.test(e.message));
    await assert.rejects(engine.ping(), (e: unknown) => e instanceof EngineError && e.kind === 'no-engine');
  });
});

describe('engine: image references', () => {
  const table: Array<{ ref: string; expected: ReturnType<typeof splitImageReference> }> = [
    { ref: 'app', expected: { repository: 'app', tag: 'latest' } },
    { ref: 'localhost:5000/team/app:1.0', expected: { repository: 'localhost:5000/team/app', tag: '1.0' } },
    { ref: '127.0.0.1:5000/app', expected: { repository: '127.0.0.1:5000/app', tag: 'latest' } },
    { ref: `r.example/app@sha256:${'a'.repeat(64)}`, expected: { repository: 'r.example/app', digest: `sha256:${'a'.repeat(64)}` } },
  ];
  for (const { ref, expected } of table) it(`splits ${ref.slice(0, 40)}`, () => assert.deepEqual(splitImageReference(ref), expected));

  it('refuses a reference the engine would refuse, as invalid-reference', () => {
    assert.throws(() => splitImageReference('Team/App:1'), (e: unknown) => e instanceof EngineError && e.kind === 'invalid-reference' && /lowercase/.test(e.message));
  });

  it('names the registry a reference lives in, Docker Hub by its config key', () => {
    assert.equal(registryOfReference('localhost:5000/a:1'), 'localhost:5000');
    assert.equal(registryOfReference('nginx'), 'https://index.docker.io/v1/');
    assert.equal(registryOfReference('docker.io/team/app:1'), 'https://index.docker.io/v1/');
  });
});
