/** Import from ~/.docker/config.json and "log the docker CLI in", against a real htpasswd registry. */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import { runCommand } from '../../../src/commands/command';
import { dockerLogin } from '../../../src/commands/dockerLogin';
import { importDockerConfig } from '../../../src/commands/importDockerConfig';
import type { RegistryNode } from '../../../src/views/nodes';
import { removeDir, tempDir } from '../../support/proc';
import { startHtpasswdRegistry, type HtpasswdRegistry } from '../credentials/fixtures';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

describe('docker config.json: import and log in', () => {
  let registry: HtpasswdRegistry;
  let dir: string;
  let host: string;

  before(async () => {
    registry = await startHtpasswdRegistry();
    host = new URL(registry.url).host;
    dir = tempDir('ext-docker-config');
  });
  after(async () => {
    await registry?.stop();
    removeDir(dir);
  });

  const depsFor = (configDir: string, answers: Answer[]): TestDeps => {
    const deps = testDeps(answers);
    deps.env = { DOCKER_CONFIG: configDir, PATH: process.env['PATH'] ?? '' };
    const api = new ClientRegistryApi({ store: deps.store, localEntry: () => ({ id: 'local', label: 'Local registry', server: '127.0.0.1:1', preset: 'local' }) });
    deps.registry = async () => api;
    return deps;
  };
  const writeConfig = (name: string, auths: Record<string, { auth: string }>): string => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'config.json'), JSON.stringify({ auths }));
    return d;
  };
  const basic = (u: string, p: string): { auth: string } => ({ auth: Buffer.from(`${u}:${p}`).toString('base64') });

  it('imports the picked logins after checking them; a stale one is reported, not saved', async () => {
    const configDir = writeConfig('import', { [host]: basic(registry.username, registry.password), 'localhost:1': basic('x', 'y') });
    const deps = depsFor(configDir, [{ pickMany: [host, 'localhost:1'] }]);
    await runCommand(importDockerConfig, deps, []);
    assert.deepEqual(deps.store.list().map((e) => e.server), [host]);
    assert.deepEqual(await deps.store.credentials(host), { username: registry.username, password: registry.password });
    assert.match(deps.ui.messages('error')[0] ?? '', /Imported 1 of 2\. localhost:1 did not answer/);
  });

  it('logs the docker CLI in with the saved credentials (auths in config.json)', async () => {
    const configDir = writeConfig('login', {});
    const deps = depsFor(configDir, []);
    await deps.store.save({ id: host, label: host, server: host, preset: 'generic', username: registry.username }, { username: registry.username, password: registry.password });
    const node: RegistryNode = { kind: 'registry', registry: deps.store.list()[0] as RegistryNode['registry'] };
    await runCommand(dockerLogin, deps, [node]);
    assert.deepEqual(deps.ui.messages('error'), []);
    const written = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(written.auths[host]?.auth ?? '', 'base64').toString(), `${registry.username}:${registry.password}`);
    assert.match(deps.ui.messages('info')[0] ?? '', /docker CLI is logged in/);
  });
});
