/** A registry with a self-signed certificate: connect offers to trust its CA, the tree offers the same fix. */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import { runCommand } from '../../../src/commands/command';
import { connectRegistry } from '../../../src/commands/connectRegistry';
import { generateSelfSignedCert } from '../../../src/server/tls/cert';
import type { RegistryNode } from '../../../src/views/nodes';
import { failListing, repositoryChildren } from '../../../src/views/treeModel';
import { treeItemSpec } from '../../../src/views/treeItems';
import { startDistribution, type Distribution } from '../../support/distribution';
import { removeDir, tempDir } from '../../support/proc';
import { testDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

describe('a registry behind a self-signed certificate', () => {
  let dir: string;
  let registry: Distribution;
  let caFile: string;

  before(async () => {
    dir = tempDir('ext-tls');
    const cert = await generateSelfSignedCert({ hosts: ['registry.test', '127.0.0.1', 'localhost'] });
    caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, cert.caPem);
    writeFileSync(join(dir, 'server.crt'), cert.certPem);
    writeFileSync(join(dir, 'server.key'), cert.keyPem);
    registry = await startDistribution({ config: { http: { tls: { certificate: join(dir, 'server.crt'), key: join(dir, 'server.key') } } } });
  });
  after(async () => {
    await registry?.stop();
    removeDir(dir);
  });

  const connectWith = (answers: Answer[]) => {
    const deps = testDeps([{ pick: 'Other registry (OCI / Docker V2)' }, { input: registry.host }, { input: '' }, ...answers]);
    const api = new ClientRegistryApi({ store: deps.store, localEntry: () => ({ id: 'local', label: 'Local registry', server: '127.0.0.1:1', preset: 'local' }) });
    deps.registry = async () => api;
    return deps;
  };

  it('connect says the certificate is not trusted and, given the CA file, checks again and saves it with the entry', async () => {
    const deps = connectWith([{ button: 'Trust CA File…' }]);
    deps.ui.file = caFile;
    await runCommand(connectRegistry, deps, []);
    assert.match(deps.ui.messages('warn')[0] ?? '', /certificate is not trusted/);
    assert.deepEqual(deps.ui.messages('error'), []);
    assert.deepEqual(deps.store.list()[0]?.tls, { caFile });
    // Once saved, the same client lists the registry through the stored CA.
    const page = await (await deps.registry()).repositories(deps.store.list()[0] as RegistryNode['registry'], undefined, 10);
    assert.deepEqual(page, { items: [] });
  });

  it('connect saves nothing when the person declines to trust it', async () => {
    const deps = connectWith([{ button: undefined }]);
    await runCommand(connectRegistry, deps, []);
    assert.match(deps.ui.messages('error')[0] ?? '', /certificate is not trusted/);
    assert.deepEqual(deps.store.list(), []);
  });

  it('Skip Verification at connect asks first with the same warning as Configure TLS; declining saves nothing', async () => {
    const deps = connectWith([{ button: 'Skip Verification' }, { button: undefined }]);
    await runCommand(connectRegistry, deps, []);
    const modal = deps.ui.shown.filter((s) => s.kind === 'warn')[1];
    assert.equal(modal?.text, `Skip certificate verification for ${registry.host}?`);
    assert.deepEqual(modal?.options, { modal: true, detail: 'Berth will accept any certificate from this registry, so a machine in between could read the credentials and change images. Prefer trusting its CA file.' });
    assert.deepEqual(deps.store.list(), []);
  });

  it('a registry connected with verification skipped is marked in the tree as not verified', async () => {
    const deps = connectWith([{ button: 'Skip Verification' }, { button: 'Skip Verification' }]);
    await runCommand(connectRegistry, deps, []);
    assert.deepEqual(deps.ui.messages('error'), []);
    const entry = deps.store.list()[0];
    assert.deepEqual(entry?.tls, { skipVerify: true });
    const row = treeItemSpec({ kind: 'registry', registry: entry as RegistryNode['registry'] }, Date.now());
    assert.equal(row.description, 'certificate not verified');
    assert.match(row.tooltip ?? '', /Certificate verification is skipped for this registry/);
    assert.match(row.contextValue ?? '', /(^|;)insecure(;|$)/);
  });

  it('the tree shows "Certificate not trusted: Trust this certificate…" for a registry saved without its CA', async () => {
    const deps = connectWith([]);
    const entry = { id: registry.host, label: registry.host, server: registry.host, preset: 'generic' as const };
    const node: RegistryNode = { kind: 'registry', registry: entry };
    const err = await (await deps.registry()).repositories(entry, undefined, 10).then(() => undefined, (e: unknown) => e);
    const children = repositoryChildren(node, failListing(undefined, err), []);
    const first = children[0];
    assert.ok(first?.kind === 'message');
    assert.equal(first.message, 'Certificate not trusted: Trust this certificate…');
    assert.equal(first.action?.command, 'berth.registry.configureTls');
  });
});
