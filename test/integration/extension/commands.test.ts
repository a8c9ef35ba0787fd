/**
 * Command logic against real registries: VS Code's window, Memento and SecretStorage are the
 * in-memory fakes; the registries, the client and the credentials layer are real.
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import { connectRegistry } from '../../../src/commands/connectRegistry';
import { deleteImage } from '../../../src/commands/deleteImage';
import { retagImage } from '../../../src/commands/retagImage';
import { copyToRegistry } from '../../../src/commands/copyToRegistry';
import { runCommand } from '../../../src/commands/command';
import type { RegistryNode, RepositoryNode, TagNode } from '../../../src/views/nodes';
import { appendPage, repositoryChildren } from '../../../src/views/treeModel';
import { RegistryTreeData } from '../../../src/views/registryTreeData';
import { entryFromDraft } from '../../../src/app/presets';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDistribution, type Distribution } from '../../support/distribution';
import { buildImage, listTags, pushBuilt } from '../../support/ociImage';
import { freePort } from '../../support/proc';
import { startBerthTokenRegistry, startHtpasswdRegistry, type HtpasswdRegistry } from '../credentials/fixtures';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

function depsWithClient(answers: Answer[], local?: BerthRegistry): TestDeps {
  const deps = testDeps(answers, local ? { state: 'running', port: local.port } : { state: 'stopped' });
  const localEntry = () => ({ id: 'local', label: 'Local registry', server: local ? local.host : '127.0.0.1:1', preset: 'local' as const, insecureHttp: true });
  const api = new ClientRegistryApi({ store: deps.store, localEntry });
  deps.registry = async () => api;
  deps.local = { ...deps.local, entry: localEntry };
  return deps;
}

const genericAnswers = (server: string, user: string, password: string): Answer[] => [
  { pick: 'Other registry (OCI / Docker V2)' },
  { input: server },
  { input: user },
  { input: password },
  { input: '' },
];

const anonymousAnswers = (server: string): Answer[] => [{ pick: 'Other registry (OCI / Docker V2)' }, { input: server }, { input: '' }];

describe('connect: credentials are checked against the registry before they are saved', () => {
  let basic: HtpasswdRegistry & { host?: string };
  let token: BerthRegistry & { username: string; password: string };
  let notRegistry: Server;
  let notRegistryPort: number;

  before(async () => {
    basic = await startHtpasswdRegistry();
    token = await startBerthTokenRegistry();
    notRegistryPort = await freePort();
    notRegistry = createServer((_req, res) => res.writeHead(404, { 'Content-Type': 'text/html' }).end('<html>nope</html>'));
    await new Promise<void>((r) => notRegistry.listen(notRegistryPort, '127.0.0.1', () => r()));
  });
  after(async () => {
    await basic?.stop();
    await token?.stop();
    await new Promise<void>((r) => notRegistry.close(() => r()));
  });

  const hostOf = (url: string): string => new URL(url).host;

  it('htpasswd (Basic): the right password is saved to SecretStorage only', async () => {
    const deps = depsWithClient(genericAnswers(hostOf(basic.url), basic.username, basic.password));
    await runCommand(connectRegistry, deps, []);
    assert.deepEqual(deps.ui.messages('error'), []);
    const entry = deps.store.list()[0];
    assert.equal(entry?.server, hostOf(basic.url));
    assert.deepEqual(await deps.store.credentials(entry?.id ?? ''), { username: basic.username, password: basic.password });
    assert.ok(!JSON.stringify([...deps.memento.values]).includes(basic.password), 'no secret in the Memento');
  });

  it('htpasswd (Basic): a wrong password is not saved, and the message says the password was refused', async () => {
    const deps = depsWithClient(genericAnswers(hostOf(basic.url), basic.username, 'wrong'));
    await runCommand(connectRegistry, deps, []);
    assert.match(deps.ui.messages('error')[0] ?? '', /refused the user name or password\/token/);
    assert.deepEqual(deps.store.list(), []);
    assert.equal(deps.secrets.values.size, 0);
  });

  it('token auth (Bearer): the right password passes, a wrong one is refused', async () => {
    const ok = depsWithClient(genericAnswers(token.host, token.username, token.password));
    await runCommand(connectRegistry, ok, []);
    assert.deepEqual(ok.ui.messages('error'), []);
    assert.equal(ok.store.list().length, 1);
    const bad = depsWithClient(genericAnswers(token.host, token.username, 'nope'));
    await runCommand(connectRegistry, bad, []);
    assert.match(bad.ui.messages('error')[0] ?? '', /refused/);
    assert.equal(bad.store.list().length, 0);
  });

  /** The rows under a connected registry, as the Registries view shows them. */
  async function rowsUnder(deps: TestDeps, server: string, password: string): Promise<Array<{ label: string; command?: string }>> {
    await deps.store.save(entryFromDraft({ preset: 'generic', server, username: 'berth', secret: password, email: '' }), { username: 'berth', password });
    const tree = new RegistryTreeData({ store: deps.store, local: deps.local, settings: deps.settings, registry: deps.registry });
    try {
      const root = (await tree.getChildren()).find((n) => n.kind === 'registry' && n.registry.server === server);
      assert.ok(root, `${server} is listed`);
      return (await tree.getChildren(root)).map((n) => (n.kind === 'message' ? { label: n.message, ...(n.action ? { command: n.action.command } : {}) } : { label: n.kind === 'repository' ? n.name : n.kind }));
    } finally {
      tree.dispose();
    }
  }

  for (const kind of ['htpasswd (Basic)', 'token auth (Bearer)'] as const) {
    it(`${kind}: a password changed since it was saved shows "Sign in again" under the registry, not "does not list its repositories"`, async () => {
      const r = kind === 'htpasswd (Basic)' ? { server: hostOf(basic.url), password: basic.password } : { server: token.host, password: token.password };
      const good = await rowsUnder(depsWithClient([]), r.server, r.password);
      assert.ok(!good.some((row) => /Sign in|does not list/.test(row.label)), `the right password lists the catalog: ${JSON.stringify(good)}`);
      const stale = await rowsUnder(depsWithClient([]), r.server, 'changed-since');
      assert.deepEqual(stale, [{ label: 'Not signed in (401): Sign in again', command: 'berth.registry.editCredentials' }]);
    });
  }

  it('a server that is not a registry is named as such', async () => {
    // Anonymous: no password and no e-mail are asked.
    const deps = depsWithClient(anonymousAnswers(`127.0.0.1:${notRegistryPort}`));
    await runCommand(connectRegistry, deps, []);
    assert.match(deps.ui.messages('error')[0] ?? '', /not a container registry/);
    assert.equal(deps.store.list().length, 0);
  });

  it('a server that does not answer is named as unreachable', async () => {
    const port = await freePort();
    const deps = depsWithClient(anonymousAnswers(`127.0.0.1:${port}`));
    await runCommand(connectRegistry, deps, []);
    assert.match(deps.ui.messages('error')[0] ?? '', /did not answer/);
  });
});

describe('tree data and image commands on real registries', () => {
  let berth: BerthRegistry;
  let noDelete: Distribution;

  before(async () => {
    berth = await startBerthRegistry();
    noDelete = await startDistribution({ deleteEnabled: false });
    for (const name of ['a/one', 'a/two', 'b/three', 'b/four', 'c/five']) await pushBuilt(berth.url, name, buildImage(), '1.0');
    await pushBuilt(noDelete.url, 'kept/app', buildImage(), 'v1');
  });
  after(async () => {
    await berth?.stop();
    await noDelete?.stop();
  });

  const localNode = (): RegistryNode => ({ kind: 'registry', registry: { id: 'local', label: 'Local registry', server: berth.host, preset: 'local', insecureHttp: true }, local: { state: 'running', port: berth.port } });

  it('pages the catalog: the first page at once with a cursor, the rest through "Load more"', async () => {
    const deps = depsWithClient([], berth);
    const api = await deps.registry();
    const first = await api.repositories(localNode().registry, undefined, 2);
    assert.ok(!('noCatalog' in first));
    assert.deepEqual(first.items, ['a/one', 'a/two']);
    assert.ok(first.next, 'a cursor for the next page');
    let listing = appendPage(undefined, first);
    assert.equal(repositoryChildren(localNode(), listing, []).at(-1)?.kind, 'loadMore');
    while (listing.next) {
      const page = await api.repositories(localNode().registry, listing.next, 2);
      assert.ok(!('noCatalog' in page));
      listing = appendPage(listing, page);
    }
    assert.deepEqual(listing.items, ['a/one', 'a/two', 'b/four', 'b/three', 'c/five']);
  });

  it('retags in the registry without an engine, and deletes the new tag after confirmation', async () => {
    const deps = depsWithClient([{ input: 'stable' }, { button: 'Delete' }], berth);
    const repo: RepositoryNode = { kind: 'repository', parent: localNode(), name: 'a/one' };
    const tag: TagNode = { kind: 'tag', parent: repo, tag: '1.0' };
    await retagImage.run(deps, tag);
    assert.deepEqual((await listTags(berth.url, 'a/one')).sort(), ['1.0', 'stable']);
    await deleteImage.run(deps, { kind: 'tag', parent: repo, tag: 'stable' });
    assert.deepEqual(await listTags(berth.url, 'a/one'), ['1.0']);
    assert.equal(deps.tree.refreshed.at(-1), repo, 'the repository node is refreshed');
  });

  it('a registry that refuses deletes says so plainly', async () => {
    const deps = depsWithClient([{ button: 'Delete' }], berth);
    await deps.store.save({ id: noDelete.host, label: noDelete.host, server: noDelete.host, preset: 'local', insecureHttp: true });
    const reg: RegistryNode = { kind: 'registry', registry: deps.store.list()[0] as RegistryNode['registry'] };
    const tag: TagNode = { kind: 'tag', parent: { kind: 'repository', parent: reg, name: 'kept/app' }, tag: 'v1' };
    await runCommand(deleteImage, deps, [tag]);
    assert.match(deps.ui.messages('error')[0] ?? '', /refuses deletes|deletion/i);
    assert.deepEqual(await listTags(noDelete.url, 'kept/app'), ['v1']);
  });

  it('registry:2 with deletion on refuses a tag by name (400): the message says so and offers the manifest by digest, naming the other tags it removes', async () => {
    const reg = await startDistribution({ deleteEnabled: true });
    try {
      const shared = buildImage();
      await pushBuilt(reg.url, 'team/app', shared, 'v1');
      await pushBuilt(reg.url, 'team/app', shared, 'latest');
      await pushBuilt(reg.url, 'team/app', buildImage(), 'v2');
      const deps = depsWithClient([{ button: 'Delete' }, { button: 'Delete Manifest' }], berth);
      await deps.store.save({ id: reg.host, label: reg.host, server: reg.host, preset: 'local', insecureHttp: true });
      const repo: RepositoryNode = { kind: 'repository', parent: { kind: 'registry', registry: deps.store.list()[0] as RegistryNode['registry'] }, name: 'team/app' };
      await runCommand(deleteImage, deps, [{ kind: 'tag', parent: repo, tag: 'v1' } satisfies TagNode]);
      assert.deepEqual(deps.ui.messages('error'), []);
      const offer = deps.ui.shown.filter((s) => s.kind === 'warn')[1];
      assert.match(offer?.text ?? '', new RegExp(`refused to delete the tag team/app:v1 by name \\(HTTP 400\\): it deletes images only by digest\\. Delete the manifest sha256:[0-9a-f]{12} instead\\?`));
      assert.doesNotMatch(offer?.text ?? '', /storage\.delete\.enabled|disabled/);
      assert.match((offer?.options as { detail?: string }).detail ?? '', /removes every tag that points at it: v1, latest\./);
      assert.deepEqual(await listTags(reg.url, 'team/app'), ['v2'], 'v1 and latest went with the manifest; v2 stays');
      assert.match(deps.ui.messages('info')[0] ?? '', /^Deleted team\/app@sha256:[0-9a-f]{12} and its tags v1, latest\.$/);
      assert.equal(deps.tree.refreshed.at(-1), repo);
    } finally {
      await reg.stop();
    }
  });

  it('copies an image to another registry without an engine, digest unchanged', async () => {
    const deps = depsWithClient([{ pick: noDelete.host }, { input: 'copied/one' }, { input: 'c1' }], berth);
    await deps.store.save({ id: noDelete.host, label: noDelete.host, server: noDelete.host, preset: 'local', insecureHttp: true });
    const tag: TagNode = { kind: 'tag', parent: { kind: 'repository', parent: localNode(), name: 'b/three' }, tag: '1.0' };
    await copyToRegistry.run(deps, tag);
    assert.deepEqual(await listTags(noDelete.url, 'copied/one'), ['c1']);
    const src = await fetch(`${berth.url}/v2/b/three/manifests/1.0`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const dst = await fetch(`${noDelete.url}/v2/copied/one/manifests/c1`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(dst.headers.get('docker-content-digest'), src.headers.get('docker-content-digest'));
  });
});
