import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { RegistryClient, copyImage, isRegistryError, type Credential } from '../../../src/client';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { buildIndex, pushBuilt } from '../../support/ociImage';
import { startDistribution, type Distribution } from '../../support/distribution';
import { removeDir, tempDir } from '../../support/proc';

const USER = 'carol';
const PASSWORD = 'carols password';

const modes: Array<{ name: string; auth: Record<string, unknown>; scheme: 'basic' | 'bearer' }> = [
  { name: 'htpasswd (Basic)', auth: {}, scheme: 'basic' },
  { name: 'its built-in token endpoint (Bearer)', auth: { token: { service: 'berth-registry', issuer: 'berth-registry' } }, scheme: 'bearer' },
];

for (const mode of modes) {
  describe(`registry client against the embedded registry with ${mode.name}`, () => {
    let dir: string;
    let berth: BerthRegistry;
    let open: Distribution;

    before(async () => {
      dir = tempDir('berth-auth');
      const htpasswd = join(dir, 'htpasswd');
      writeFileSync(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
      const configPath = join(dir, 'config.yml');
      writeFileSync(configPath, stringify({ auth: { htpasswd: { realm: 'Berth test', path: htpasswd }, ...mode.auth } }));
      [berth, open] = await Promise.all([startBerthRegistry({ root: join(dir, 'data'), args: ['--config', configPath] }), startDistribution()]);
    });
    after(async () => {
      await Promise.all([berth?.stop(), open?.stop()]);
      if (dir) removeDir(dir);
    });

    const withClient = async (credential: Credential | undefined, fn: (client: RegistryClient) => Promise<void>): Promise<void> => {
      const client = new RegistryClient({ credentials: (r) => (r === berth.host ? credential : undefined), retry: { maxRetries: 0 } });
      try {
        await fn(client);
      } finally {
        client.close();
      }
    };

    it(`signs in with ${mode.scheme}`, async () => {
      await withClient({ username: USER, password: PASSWORD }, async (client) => {
        const check = await client.registry(berth.host).checkCredentials();
        assert.deepEqual({ auth: check.auth, signedIn: check.signedIn }, { auth: mode.scheme, signedIn: true });
      });
    });

    it('refuses a wrong password as unauthorized', async () => {
      await withClient({ username: USER, password: 'wrong' }, async (client) => {
        await assert.rejects(client.registry(berth.host).checkCredentials(), (e) => isRegistryError(e, 'unauthorized'));
      });
    });

    it('copies an index in from an open registry, then lists and reads it with credentials', async () => {
      const index = buildIndex();
      await pushBuilt(open.url, 'upstream/app', index, 'v1');
      await withClient({ username: USER, password: PASSWORD }, async (client) => {
        const result = await copyImage(client, { registry: open.host, repository: 'upstream/app', tag: 'v1' }, { registry: berth.host, repository: 'team/app', tag: 'v1' });
        assert.equal(result.digest, index.digest);
        const reg = client.registry(berth.host);
        const catalog = await reg.catalogPage();
        assert.ok(catalog.kind === 'page' && catalog.page.items.includes('team/app'));
        assert.deepEqual((await reg.tagsPage('team/app')).items, ['v1']);
        assert.equal((await reg.headManifest('team/app', 'v1')).digest, index.digest);
        assert.equal((await reg.platforms('team/app', 'v1')).length, 3);
      });
    });
  });
}
