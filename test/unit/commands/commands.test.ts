import { strict as assert } from 'node:assert';
import pkg from '../../../package.json';
import { addRepository } from '../../../src/commands/addRepository';
import { runCommand, type CommandSpec } from '../../../src/commands/command';
import { copyDigest } from '../../../src/commands/copyDigest';
import { copyPullCommand } from '../../../src/commands/copyPullCommand';
import { copyPullSecret } from '../../../src/commands/copyPullSecret';
import { copyReference } from '../../../src/commands/copyReference';
import { disconnectRegistry } from '../../../src/commands/disconnectRegistry';
import { filterRepositories } from '../../../src/commands/filterRepositories';
import { localOpenStorage } from '../../../src/commands/localOpenStorage';
import { pushLocalImage } from '../../../src/commands/pushLocalImage';
import { COMMANDS } from '../../../src/commands/registerCommands';
import { COMMAND_IDS, registerCommands } from '../../../src/commands/commandIds';
import { RegistryError } from '../../../src/client/errors';
import type { ManifestNode, MessageNode, PlatformNode, RegistryNode, RepositoryNode, TagNode } from '../../../src/views/nodes';
import { Cancelled, UserError } from '../../../src/app/problems';
import { LOCAL_ENTRY, testDeps } from '../fakes/deps';

const D = 'sha256:' + 'e'.repeat(64);
const ghcr = { id: 'ghcr.io', label: 'GitHub Container Registry', server: 'ghcr.io', preset: 'ghcr' as const, username: 'octocat' };
const registryNode: RegistryNode = { kind: 'registry', registry: ghcr };
const localNode: RegistryNode = { kind: 'registry', registry: LOCAL_ENTRY, local: { state: 'running', port: 5000 } };
const repoNode: RepositoryNode = { kind: 'repository', parent: localNode, name: 'team-a/api' };
const tagNode: TagNode = { kind: 'tag', parent: repoNode, tag: '1.4' };
const manifestNode: ManifestNode = { kind: 'manifest', parent: tagNode, digest: D, mediaType: 'application/vnd.oci.image.index.v1+json', size: 1 };
const platformNode: PlatformNode = { kind: 'platform', parent: manifestNode, platform: 'linux/arm64/v8', digest: 'sha256:' + 'f'.repeat(64), mediaType: 'x', size: 1 };

describe('commands table', () => {
  const contributed = pkg.contributes.commands.map((c) => c.command).sort();

  it('registers every contributed command exactly once, and nothing else', () => {
    const ids = COMMANDS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate ids');
    assert.deepEqual([...ids].sort(), contributed);
    assert.deepEqual([...COMMAND_IDS].sort(), contributed, 'the ids registered at activation');
  });

  it('a registered id runs its command from the lazily loaded table, through the error wrapper', async () => {
    const handlers = new Map<string, (...args: unknown[]) => Promise<void>>();
    const deps = testDeps();
    let loads = 0;
    const load = async () => {
      loads++;
      return { COMMANDS, runCommand };
    };
    registerCommands(COMMAND_IDS, deps, load, (id, handler) => {
      handlers.set(id, handler);
      return { dispose: () => undefined };
    });
    assert.equal(loads, 0, 'nothing is loaded at registration');
    await handlers.get('berth.tag.copyReference')?.(tagNode);
    assert.deepEqual(deps.ui.clipboard, ['127.0.0.1:5000/team-a/api:1.4']);
    await handlers.get('berth.registry.disconnect')?.(localNode);
    assert.match(deps.ui.messages('error')[0] ?? '', /cannot be disconnected/);
    assert.equal(loads, 2);
  });

  it('names every command berth.<area>.<verb> with the Berth category', () => {
    for (const c of pkg.contributes.commands) {
      assert.match(c.command, /^berth\.[a-zA-Z]+\.[a-zA-Z]+$/);
      assert.equal(c.category, 'Berth');
    }
  });

  it('activates once startup has finished (status bar, auto-start), on views and commands, never on "*"', () => {
    const events = pkg.activationEvents;
    assert.ok(!events.includes('*'));
    assert.ok(events.includes('onStartupFinished'));
    assert.ok(events.includes('onView:berth.registries'));
    assert.ok(events.includes('onCommand:berth.registry.connect'));
  });

  it('menus, welcome views and the walkthrough reference only contributed commands', () => {
    const menus = Object.values(pkg.contributes.menus as Record<string, Array<{ command: string }>>).flat();
    for (const m of menus) assert.ok(contributed.includes(m.command), m.command);
    const text = JSON.stringify([pkg.contributes.viewsWelcome, pkg.contributes.walkthroughs]);
    const linked = [...text.matchAll(/(?:command:|onCommand:)(berth\.[a-zA-Z.]+)/g)].map((m) => m[1] as string);
    assert.ok(linked.length >= 8);
    for (const id of linked) assert.ok(contributed.includes(id), id);
  });
});

describe('runCommand: failures become messages', () => {
  const failing = (err: unknown): CommandSpec => ({ id: 'berth.test.fail', run: () => Promise.reject(err) });

  it('shows the registry\'s actionable message, never a stack trace, and logs the stack', async () => {
    const deps = testDeps();
    await runCommand(failing(new RegistryError({ kind: 'unauthorized', message: 'ghcr.io refused the credentials. Sign in again.' })), deps, []);
    assert.deepEqual(deps.ui.messages('error'), ['ghcr.io refused the credentials. Sign in again.']);
    assert.ok(!deps.ui.messages('error')[0]?.includes('    at '));
    assert.match(deps.log.lines[0] ?? '', /berth\.test\.fail failed: .*RegistryError/s);
  });

  it('says nothing when the person cancelled', async () => {
    for (const err of [new Cancelled(), Object.assign(new Error('aborted'), { name: 'AbortError' })]) {
      const deps = testDeps();
      await runCommand(failing(err), deps, []);
      assert.deepEqual(deps.ui.shown, []);
    }
  });

  it('passes the node through', async () => {
    let got: unknown;
    await runCommand({ id: 'berth.test.node', run: async (_d, node) => void (got = node) }, testDeps(), [tagNode]);
    assert.equal(got, tagNode);
  });

  it('a UserError message is shown as is', async () => {
    const deps = testDeps();
    await runCommand(failing(new UserError('The local registry is not running: start it first.')), deps, []);
    assert.deepEqual(deps.ui.messages('error'), ['The local registry is not running: start it first.']);
  });
});

describe('commands on nodes', () => {
  it('copy reference, digest and docker pull command for a tag, a manifest and a platform, each saying what it copied', async () => {
    const deps = testDeps();
    await copyReference.run(deps, tagNode);
    await copyReference.run(deps, platformNode);
    await copyDigest.run(deps, manifestNode);
    await copyPullCommand.run(deps, manifestNode);
    assert.deepEqual(deps.ui.clipboard, [
      '127.0.0.1:5000/team-a/api:1.4',
      `127.0.0.1:5000/team-a/api@sha256:${'f'.repeat(64)}`,
      D,
      `docker pull 127.0.0.1:5000/team-a/api@${D}`,
    ]);
    assert.deepEqual(deps.ui.messages('notice'), [
      'Copied image reference: 127.0.0.1:5000/team-a/api:1.4',
      `Copied image reference: 127.0.0.1:5000/team-a/api@sha256:${'f'.repeat(12)}…`,
      `Copied digest: sha256:${'e'.repeat(12)}…`,
      `Copied pull command: docker pull 127.0.0.1:5000/team-a/api@sha256:${'e'.repeat(12)}…`,
    ]);
    assert.deepEqual(deps.ui.messages('info'), [], 'feedback needs no answer, so it is not a notification');
  });

  it('filter asks with the current filter, and an empty answer shows every repository again', async () => {
    const deps = testDeps([{ input: '' }]);
    deps.tree.setFilter('local', 'team-a');
    await filterRepositories.run(deps, localNode);
    assert.equal((deps.ui.shown[0]?.options as { value?: string }).value, 'team-a');
    assert.equal(deps.tree.filterOf('local'), undefined);
  });

  it('add repository remembers the name per registry and refreshes that registry (also from its error node)', async () => {
    const deps = testDeps([{ input: 'me/app' }]);
    await deps.store.save(ghcr);
    const addNode: MessageNode = { kind: 'message', parent: registryNode, severity: 'action', message: 'Add Repository…' };
    await addRepository.run(deps, addNode);
    assert.deepEqual(deps.store.rememberedRepositories('ghcr.io'), ['me/app']);
    assert.deepEqual(deps.store.rememberedRepositories('local'), []);
    assert.equal(deps.tree.refreshed[0], registryNode);
  });

  it('without a node, asks which registry with a QuickPick', async () => {
    const deps = testDeps([{ pick: 'GitHub Container Registry' }, { input: 'x/y' }]);
    await deps.store.save(ghcr);
    await addRepository.run(deps);
    assert.deepEqual(deps.ui.shown[0]?.items, ['Local registry', 'GitHub Container Registry']);
    assert.deepEqual(deps.store.rememberedRepositories('ghcr.io'), ['x/y']);
  });

  it('copies a Kubernetes pull secret built from the saved credentials, in kubectl\'s current namespace when none is given', async () => {
    const deps = testDeps([{ input: 'ghcr-pull' }, { input: '' }]);
    await deps.store.save(ghcr, { username: 'octocat', password: 'ghp_token' });
    await copyPullSecret.run(deps, registryNode);
    const yaml = deps.ui.clipboard[0] ?? '';
    assert.match(yaml, /type: kubernetes\.io\/dockerconfigjson/);
    assert.match(yaml, /name: ghcr-pull/);
    const data = /\.dockerconfigjson: (\S+)/.exec(yaml)?.[1] ?? '';
    const config = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { auths: Record<string, { username: string; password: string }> };
    assert.equal(Object.values(config.auths)[0]?.password, 'ghp_token');
    assert.doesNotMatch(yaml, /namespace:/);
  });

  it('copies a pull secret whose name has dots into the namespace asked for, and says where', async () => {
    const deps = testDeps([{ input: 'ghcr.io' }, { input: 'team-a' }]);
    await deps.store.save(ghcr, { username: 'octocat', password: 'ghp_token' });
    await copyPullSecret.run(deps, registryNode);
    assert.match(deps.ui.clipboard[0] ?? '', /name: ghcr\.io\n\s+namespace: team-a/);
    assert.match(deps.ui.messages('info').at(-1) ?? '', /Secret "ghcr\.io" in namespace "team-a" copied/);
  });

  it('refuses to copy a pull secret for a registry without credentials, saying what to do', async () => {
    const deps = testDeps();
    await deps.store.save({ ...ghcr, username: undefined });
    await assert.rejects(copyPullSecret.run(deps, registryNode), /Edit Credentials/);
  });

  it('does not disconnect the local registry', async () => {
    await assert.rejects(disconnectRegistry.run(testDeps(), localNode), /cannot be disconnected/);
  });

  it('disconnect asks first and keeps everything when declined', async () => {
    const deps = testDeps([{ button: undefined }]);
    await deps.store.save(ghcr, { username: 'octocat', password: 'p' });
    await disconnectRegistry.run(deps, registryNode);
    assert.equal(deps.store.list().length, 1);
    assert.equal(deps.ui.shown[0]?.kind, 'warn');
    assert.equal((deps.ui.shown[0]?.options as { modal?: boolean }).modal, true);
  });

  it('open storage offers to copy the path where there is no file manager (remote window)', async () => {
    const deps = testDeps([{ button: 'Copy Path' }]);
    deps.ui.revealable = false;
    await localOpenStorage.run(deps);
    assert.deepEqual(deps.ui.clipboard, ['/tmp/berth-registry']);
    assert.deepEqual(deps.ui.messages('notice'), ['Copied storage path: /tmp/berth-registry']);
  });
});

describe('push local image to the local registry', () => {
  const refs = ['127.0.0.1:5123/app:1', 'localhost:5123/app:1', '[::1]:5123/app:1'];
  for (const reference of refs) {
    it(`recognises ${reference} as the local registry on a non-default port and, while it is stopped, offers to start it before the engine is asked`, async () => {
      const deps = testDeps([{ button: undefined }], { state: 'stopped' });
      deps.local = { ...deps.local, entry: () => ({ ...LOCAL_ENTRY, server: '127.0.0.1:5123' }) };
      let engineAsked = false;
      deps.engine = async () => {
        engineAsked = true;
        throw new Error('the engine must not be reached');
      };
      await runCommand(pushLocalImage, deps, [{ kind: 'localImage', image: { id: `sha256:${'a'.repeat(64)}`, reference, repoTags: [reference], sizeBytes: 1, createdMs: 0 } }]);
      assert.deepEqual(deps.ui.messages('warn'), ['The local registry is not running.']);
      assert.deepEqual(deps.ui.messages('error'), ['The local registry is not running: start it first.']);
      assert.equal(engineAsked, false);
    });
  }
});
