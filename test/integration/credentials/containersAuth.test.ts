import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerCredentialStore } from '../../../src/credentials';
import { containerTools, type ContainerTools } from '../../support/clients';
import { buildImage, writeOciLayout } from '../../support/ociImage';
import { startHtpasswdRegistry, type HtpasswdRegistry } from './fixtures';

/** Podman's and skopeo's auth.json, read after `podman login` and written for skopeo to use. */
describe('credentials: the containers tools\' auth.json', () => {
  let tools: ContainerTools;
  let registry: HtpasswdRegistry;
  let authFile: string;
  let layout: string;

  before(async () => {
    tools = containerTools();
    registry = await startHtpasswdRegistry();
    authFile = tools.env['REGISTRY_AUTH_FILE'] as string;
    layout = join(tools.dir, 'layout');
    writeOciLayout(layout, buildImage(), 'one');
  });
  after(async () => {
    await registry?.stop();
    await tools?.cleanup();
  });

  const store = (): DockerCredentialStore => new DockerCredentialStore({ configFile: authFile, format: 'containers', env: tools.env });
  const copy = (tag: string): Promise<unknown> =>
    tools.skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:one`, `docker://${registry.host}/containers/app:${tag}`]);

  it('reads the login `podman login` wrote', async () => {
    await tools.podman(['login', '--tls-verify=false', '-u', registry.username, '--password-stdin', registry.host], { input: registry.password });
    const got = await store().get(registry.host);
    assert.equal(got?.username, registry.username);
    assert.equal(got?.password, registry.password);
    assert.deepEqual(got?.source, { kind: 'file', path: authFile });
    await tools.podman(['logout', registry.host]);
    assert.equal(await store().get(registry.host), undefined);
  });

  it('writes a login skopeo pushes with, and erasing it makes skopeo refused', async () => {
    await store().store(registry.host, { username: registry.username, password: registry.password });
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(authFile, 'utf8')) as { auths: object }).auths), [registry.host]);
    await copy('1');
    await store().erase(registry.host);
    await assert.rejects(copy('2'), /unauthorized|authentication required/i);
  });

  it('files Docker Hub as docker.io, the way Podman does', async () => {
    await store().store('https://index.docker.io/v1/', { username: 'hub', password: 'h' });
    const auths = (JSON.parse(readFileSync(authFile, 'utf8')) as { auths: Record<string, unknown> }).auths;
    assert.ok('docker.io' in auths && !('https://index.docker.io/v1/' in auths));
    assert.equal((await store().get('registry-1.docker.io'))?.username, 'hub');
    await store().erase('docker.io');
  });
});
