import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerCredentialStore } from '../../../src/credentials';
import { dockerBuildScratch } from '../../support/clients';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { fakeHelpersPath, startHtpasswdRegistry, startPassStore, type HtpasswdRegistry, type PassStore } from './fixtures';

/** The docker CLI itself, reading the credentials this project wrote, pushing to a registry that wants them. */
describe('credentials: the docker CLI uses what we stored (no docker login)', () => {
  let dockerd: Dockerd;
  let registry: HtpasswdRegistry;
  let pass: PassStore;
  const local = 'berth-cli-test:1';

  before(async () => {
    [dockerd, registry, pass] = await Promise.all([startDockerd(), startHtpasswdRegistry(), startPassStore()]);
    mkdirSync(dockerd.configDir, { recursive: true });
    await dockerBuildScratch(dockerd, local, { label: 'cli-creds' });
  });
  after(async () => {
    await Promise.all([dockerd?.stop(), registry?.stop(), pass?.cleanup()]);
  });

  const manifestStatus = async (repo: string, tag: string): Promise<number> => {
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
    const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD', headers: { authorization: `Basic ${auth}`, accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    return res.status;
  };

  it('pushes with a login stored in config.json auths, and is refused once it is erased', async () => {
    writeFileSync(join(dockerd.configDir, 'config.json'), '{}');
    const store = new DockerCredentialStore({ configDir: dockerd.configDir, env: {} });
    await store.store(registry.host, { username: registry.username, password: registry.password });
    const target = `${registry.host}/cli/file:1`;
    await dockerd.docker(['tag', local, target]);
    await dockerd.docker(['push', target]);
    assert.equal(await manifestStatus('cli/file', '1'), 200);

    await store.erase(registry.host);
    const refused = `${registry.host}/cli/file:2`;
    await dockerd.docker(['tag', local, refused]);
    await assert.rejects(dockerd.docker(['push', refused]), (e: unknown) => /no basic auth credentials|unauthorized/i.test(String((e as { stderr?: string }).stderr)));
    assert.equal(await manifestStatus('cli/file', '2'), 404);
  });

  it('pushes with a login stored through credsStore: pass', async () => {
    writeFileSync(join(dockerd.configDir, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
    const store = new DockerCredentialStore({ configDir: dockerd.configDir, env: pass.env });
    assert.equal((await store.store(registry.host, { username: registry.username, password: registry.password })).kind, 'helper');
    const target = `${registry.host}/cli/pass:1`;
    await dockerd.docker(['tag', local, target]);
    // The CLI runs docker-credential-pass with its own environment, which must find our throwaway store.
    const saved = { GNUPGHOME: process.env['GNUPGHOME'], PASSWORD_STORE_DIR: process.env['PASSWORD_STORE_DIR'] };
    try {
      process.env['GNUPGHOME'] = pass.env['GNUPGHOME'];
      process.env['PASSWORD_STORE_DIR'] = pass.env['PASSWORD_STORE_DIR'];
      await dockerd.docker(['push', target]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    assert.equal(await manifestStatus('cli/pass', '1'), 200);
    await store.erase(registry.host);
  });

  it('names a missing helper where the docker CLI only says "no basic auth credentials"', async () => {
    writeFileSync(join(dockerd.configDir, 'config.json'), JSON.stringify({ credsStore: 'berth-absent' }));
    const path = fakeHelpersPath(dockerd.dir, {});
    const store = new DockerCredentialStore({ configDir: dockerd.configDir, env: { PATH: path } });
    await assert.rejects(store.get(registry.host), /docker-credential-berth-absent not found on PATH/);
    await assert.rejects(dockerd.docker(['push', `${registry.host}/cli/file:1`]), (e: unknown) => /no basic auth credentials/.test(String((e as { stderr?: string }).stderr)));
    writeFileSync(join(dockerd.configDir, 'config.json'), '{}');
  });
});
