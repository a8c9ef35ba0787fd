/**
 * How a push ends when it does not finish, as a person sees it: a real dockerd pushing to the
 * embedded registry as the extension runs it (on a port other than 5000), the command logic, and the
 * fake window recording every message and button.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import bcrypt from 'bcryptjs';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import type { EngineApi } from '../../../src/app/ports';
import type { RegistryEntry } from '../../../src/app/registryEntry';
import { runCommand } from '../../../src/commands/command';
import { pushLocalImage } from '../../../src/commands/pushLocalImage';
import { retagAndPush } from '../../../src/commands/retagAndPush';
import { Engine } from '../../../src/engine/engine';
import type { LocalRegistry } from '../../../src/local/localRegistry';
import type { LocalImageNode } from '../../../src/views/nodes';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { bigImageContext, busyboxContext } from '../../support/images';
import { listTags } from '../../support/ociImage';
import { freePort, removeDir, tempDir } from '../../support/proc';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';
import { localManager } from '../local/manager';

describe('a push that does not finish, through a real dockerd and the local registry on a non-default port', () => {
  let dockerd: Dockerd;
  let engine: Engine;
  let dir: string;
  let local: LocalRegistry;
  let port: number;
  let secured: BerthRegistry;
  const small = 'berth-outcome/app:dev';
  const big = 'berth-outcome/big:dev';
  const user = { name: 'pusher', password: 'right-pass' };

  before(async () => {
    dir = tempDir('push-outcome');
    dockerd = await startDockerd();
    engine = new Engine({ socketPath: dockerd.socket });
    const ctx = busyboxContext(2, 'berth-outcome');
    const bigCtx = bigImageContext(32);
    try {
      await dockerd.docker(['build', '-q', '-t', small, ctx]);
      await dockerd.docker(['build', '-q', '-t', big, bigCtx], { timeoutMs: 180_000 });
    } finally {
      removeDir(ctx);
      removeDir(bigCtx);
    }
    port = await freePort();
    local = localManager({ dir, port });
    await local.start();
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `${user.name}:${bcrypt.hashSync(user.password, 6)}\n`);
    const config = join(dir, 'secured.yml');
    writeFileSync(config, stringify({
      auth: { htpasswd: { realm: 'berth-test', path: htpasswd } },
      access: { rules: [{ repositories: ['team/*'], users: [user.name], actions: ['*'] }, { repositories: ['readonly/*'], users: [user.name], actions: ['pull'] }] },
    }));
    secured = await startBerthRegistry({ args: ['--config', config] });
  });
  after(async () => {
    await secured?.stop();
    await local?.stop();
    local?.dispose();
    await dockerd?.stop();
    removeDir(dir);
  });

  const securedEntry = (): RegistryEntry => ({ id: secured.host, label: 'Team registry', server: secured.host, preset: 'generic', username: user.name, insecureHttp: true });

  /** The extension's wiring: the real local registry (its entry follows the port it runs on), the real client. */
  const deps = (answers: Answer[]): TestDeps => {
    const d = testDeps(answers);
    const localEntry = (): RegistryEntry => ({ id: 'local', label: 'Local registry', server: `127.0.0.1:${local.status().port ?? port}`, preset: 'local', insecureHttp: true });
    d.local = { ...d.local, entry: localEntry, status: () => local.status(), start: () => local.start(), stop: () => local.stop(), gc: (dryRun) => local.gc(dryRun) };
    const api = new ClientRegistryApi({ store: d.store, localEntry });
    d.registry = async () => api;
    d.engine = async () => engine;
    return d;
  };
  const nodeOf = async (reference: string): Promise<LocalImageNode> => {
    const image = await engine.inspectImage(reference);
    return { kind: 'localImage', image: { id: image.id, reference, repoTags: image.tags, sizeBytes: image.sizeBytes, createdMs: 0 } };
  };
  const engineTags = async (): Promise<string[]> => (await engine.listImages()).flatMap((i) => i.tags);
  const uploadsOf = (repository: string): string[] => {
    const folder = join(dir, 'data', 'docker/registry/v2/repositories', repository, '_uploads');
    return existsSync(folder) ? readdirSync(folder) : [];
  };

  /** Presses Cancel on the push notification once `bytes` of a layer are on their way. */
  const cancelAfter = (d: TestDeps, bytes: number): void => {
    const withProgress = d.ui.withProgress.bind(d.ui);
    d.ui.withProgress = async (title, cancellable, task) => {
      if (!title.startsWith('Pushing')) return withProgress(title, cancellable, task);
      const abort = new AbortController();
      return task(() => undefined, abort.signal);
    };
    const push = engine.push.bind(engine);
    const wrapped: EngineApi = {
      listImages: (o) => engine.listImages(o),
      inspectImage: (r) => engine.inspectImage(r),
      tag: (s, t) => engine.tag(s, t),
      remove: (r, o) => engine.remove(r, o),
      pull: (r, o) => engine.pull(r, o),
      build: (o) => engine.build(o),
      watchImages: (l, o) => engine.watchImages(l, o),
      address: engine.address,
      push: (ref, opts = {}) => {
        const abort = new AbortController();
        opts.signal?.addEventListener('abort', () => abort.abort());
        return push(ref, {
          ...opts,
          signal: abort.signal,
          onProgress: (e) => {
            opts.onProgress?.(e);
            if (e.type === 'layer' && e.layer.status === 'Pushing' && (e.layer.current ?? 0) >= bytes) abort.abort();
          },
        });
      },
    };
    d.engine = async () => wrapped;
  };

  it('cancelling a push mid-way says so, removes the tag it added, and garbage collection then lists and removes the partial upload', async () => {
    const target = `127.0.0.1:${port}/team/big:1`;
    const d = deps([
      { pick: 'Local registry' }, { input: 'team/big' }, { input: '1' },
      { button: 'Garbage-Collect…' }, { button: 'Continue' }, { button: 'Delete' },
    ]);
    cancelAfter(d, 4 * 1024 * 1024);
    const before = await engineTags();
    await runCommand(retagAndPush, d, [await nodeOf(big)]);

    const [cancelled, done] = d.ui.messages('info');
    assert.equal(cancelled, `Push of ${target} cancelled. Its temporary tag was removed. The layers it had started stay in the local registry as abandoned uploads until garbage collection.`);
    assert.deepEqual(d.ui.shown.find((s) => s.text === cancelled)?.items, ['Garbage-Collect…']);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.ok(!(await engineTags()).includes(target), 'the tag Berth added for the push is gone');
    assert.deepEqual((await engineTags()).sort(), before.sort(), 'the engine has the names it had before, the source among them');

    // Garbage collection, from the button: the preview names the abandoned upload with its size, then it is gone.
    const preview = d.ui.shown.find((s) => s.kind === 'warn' && s.text.startsWith('Garbage collection:'));
    assert.match(preview?.text ?? '', /and [1-9]\d* abandoned uploads? \((?!0 B)[\d.]+ [KMG]?B\)/, 'the partial layers are counted with their size');
    const detail = (preview?.options as { detail?: string } | undefined)?.detail ?? '';
    assert.match(detail, /would remove abandoned upload team\/big\/[\w-]+ \([\d.]+ [KMG]?B, idle \d+ s\)/);
    assert.match(done ?? '', /^Garbage collection done: removed \d+ manifests and \d+ blobs \([\d.]+ [KMG]?B\) and [1-9]\d* abandoned uploads/);
    assert.deepEqual(uploadsOf('team/big'), [], 'no upload session is left on disk');
    assert.equal(local.status().state, 'running', 'the registry runs again after collecting');
    assert.equal((await fetch(`http://127.0.0.1:${port}/v2/team/big/tags/list`)).status, 404, 'no tag reached the registry');
  });

  it('cancelling keeps a tag the person already had, pointing where it pointed', async () => {
    const target = `127.0.0.1:${port}/team/mine:1`;
    await engine.tag(small, target);
    const d = deps([{ pick: 'Local registry' }, { input: 'team/mine' }, { input: '1' }, { button: undefined }]);
    cancelAfter(d, 1);
    await runCommand(retagAndPush, d, [await nodeOf(big)]);
    assert.match(d.ui.messages('info')[0] ?? '', new RegExp(`^Push of ${target.replace(/\./g, '\\.')} cancelled\\. ${target.replace(/\./g, '\\.')} points at its earlier image again\\.`));
    assert.equal((await engine.inspectImage(target)).id, (await engine.inspectImage(small)).id, 'the person\'s tag points at the image it named before');
    await engine.remove(target);
  });

  it('an unauthorized push says so in one short line, removes its tag, and "Edit Credentials…" saves new ones that then push', async () => {
    const target = `${secured.host}/team/app:1`;
    const d = deps([
      { pick: 'Team registry' }, { input: 'team/app' }, { input: '1' },
      { button: 'Edit Credentials…' }, { input: user.name }, { input: user.password }, { input: '' },
    ]);
    await d.store.save(securedEntry(), { username: user.name, password: 'wrong-pass' });
    await runCommand(retagAndPush, d, [await nodeOf(small)]);

    const [error] = d.ui.shown.filter((s) => s.kind === 'error');
    assert.equal(error?.text, `Push of ${target} failed: Team registry did not accept the saved credentials.`);
    assert.deepEqual(error?.items, ['Edit Credentials…']);
    assert.ok(!(await engineTags()).includes(target), 'the tag added for the failed push is gone');
    assert.ok(d.log.lines.some((l) => l.startsWith(`error push of ${target} failed:`) && /unauthorized|authentication required/i.test(l)), `the engine's words are in the log: ${d.log.lines.join('\n')}`);
    assert.deepEqual(d.ui.messages('info'), ['Credentials for Team registry updated.']);
    assert.deepEqual(await d.store.credentials(secured.host), { username: user.name, password: user.password });

    // The same push now goes through with what was saved.
    const again = deps([{ pick: 'Team registry' }, { input: 'team/app' }, { input: '1' }]);
    await again.store.save(securedEntry(), { username: user.name, password: user.password });
    await runCommand(retagAndPush, again, [await nodeOf(small)]);
    assert.deepEqual(again.ui.messages('error'), []);
    const tags = await fetch(`${secured.url}/v2/team/app/tags/list`, { headers: { Authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}` } });
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['1']);
  });

  it('a push with no credentials to a registry that wants them asks to sign in, with the same button', async () => {
    const target = `${secured.host}/team/anon:1`;
    const d = deps([{ pick: 'Team registry' }, { input: 'team/anon' }, { input: '1' }, { button: undefined }]);
    await d.store.save({ ...securedEntry(), username: undefined } as RegistryEntry);
    await runCommand(retagAndPush, d, [await nodeOf(small)]);
    const [error] = d.ui.shown.filter((s) => s.kind === 'error');
    assert.equal(error?.text, `Push of ${target} failed: Team registry wants you to sign in.`);
    assert.deepEqual(error?.items, ['Edit Credentials…']);
    assert.ok(!(await engineTags()).includes(target));
  });

  it('a push the account may not make (403) names the repository, with Edit Credentials… to sign in as someone who may', async () => {
    const target = `${secured.host}/readonly/app:1`;
    const d = deps([{ pick: 'Team registry' }, { input: 'readonly/app' }, { input: '1' }, { button: undefined }]);
    await d.store.save(securedEntry(), { username: user.name, password: user.password });
    await runCommand(retagAndPush, d, [await nodeOf(small)]);
    const [error] = d.ui.shown.filter((s) => s.kind === 'error');
    assert.equal(error?.text, `Push of ${target} failed: this account may not push to readonly/app on Team registry.`);
    assert.deepEqual(error?.items, ['Edit Credentials…']);
    assert.ok(d.log.lines.some((l) => l.startsWith(`error push of ${target} failed:`) && /denied/i.test(l)), d.log.lines.join('\n'));
    assert.ok(!(await engineTags()).includes(target));
  });

  describe('Push Local Image and the local registry on a non-default port', () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      it(`recognises ${host}:<port>/x as the local registry and pushes it without asking where`, async () => {
        const reference = `${host}:${port}/local/${host === 'localhost' ? 'by-name' : 'by-ip'}:1`;
        await engine.tag(small, reference);
        const d = deps([]);
        await runCommand(pushLocalImage, d, [await nodeOf(reference)]);
        assert.deepEqual(d.ui.messages('error'), []);
        assert.deepEqual(d.ui.messages('pick'), [], 'no registry was asked for');
        assert.deepEqual(d.ui.messages('info'), [`Pushed ${reference}.`]);
        assert.deepEqual(await listTags(`http://127.0.0.1:${port}`, `local/${host === 'localhost' ? 'by-name' : 'by-ip'}`), ['1']);
        assert.ok((await engineTags()).includes(reference), 'a tag the person made stays after the push');
      });
    }

    it('a stopped local registry is named as such and offered to start, never sent to insecure-registries', async () => {
      const reference = `127.0.0.1:${port}/local/stopped:1`;
      await engine.tag(small, reference);
      await local.stop();
      try {
        const declined = deps([{ button: undefined }]);
        await runCommand(pushLocalImage, declined, [await nodeOf(reference)]);
        assert.deepEqual(declined.ui.messages('warn'), ['The local registry is not running.']);
        assert.deepEqual(declined.ui.messages('error'), ['The local registry is not running: start it first.']);

        const started = deps([{ button: 'Start the Local Registry' }]);
        await runCommand(pushLocalImage, started, [await nodeOf(reference)]);
        assert.equal(local.status().state, 'running');
        assert.deepEqual(started.ui.messages('error'), []);
        assert.deepEqual(started.ui.messages('info'), [`Pushed ${reference}.`]);
        assert.ok(![...declined.ui.shown, ...started.ui.shown].some((s) => /insecure-registries/.test(s.text)));
      } finally {
        if (local.status().state !== 'running') await local.start();
      }
    });

    it('a push to the stopped local registry whose port another program took offers a free port, pushes there, and then takes localhost:<new port>/… as local', async () => {
      const blocker = createServer();
      const busyPort = await freePort();
      await new Promise<void>((r) => blocker.listen(busyPort, '127.0.0.1', () => r()));
      let setting = busyPort;
      const moved = localManager({ dir: join(dir, 'moved'), port: () => setting });
      try {
        const wire = (answers: Answer[]): TestDeps => {
          const d = deps(answers);
          const entry = (): RegistryEntry => ({ id: 'local', label: 'Local registry', server: `127.0.0.1:${moved.status().port ?? setting}`, preset: 'local', insecureHttp: true });
          d.local = { ...d.local, entry, status: () => moved.status(), start: () => moved.start(), stop: () => moved.stop() };
          d.settings = { ...d.settings, setLocalPort: async (p) => { setting = p; return 'User settings'; } };
          return d;
        };
        const d = wire([{ pick: 'Local registry' }, { button: 'Start the Local Registry' }, { button: (actions) => actions.find((a) => a.startsWith('Use Port ')) }, { input: 'moved/app' }, { input: '1' }]);
        await runCommand(retagAndPush, d, [await nodeOf(small)]);
        assert.notEqual(setting, busyPort, 'a free port was saved');
        assert.match(d.ui.messages('warn')[1] ?? '', new RegExp(`^Port ${busyPort} on 127\\.0\\.0\\.1 is already in use`));
        assert.deepEqual(d.ui.messages('error'), []);
        assert.equal(d.ui.messages('info').at(-1), `Pushed 127.0.0.1:${setting}/moved/app:1.`);
        assert.deepEqual(await listTags(`http://127.0.0.1:${setting}`, 'moved/app'), ['1']);

        const reference = `localhost:${setting}/moved/direct:1`;
        await engine.tag(small, reference);
        const again = wire([]);
        await runCommand(pushLocalImage, again, [await nodeOf(reference)]);
        assert.deepEqual(again.ui.messages('pick'), [], 'no registry was asked for');
        assert.deepEqual(again.ui.messages('info'), [`Pushed ${reference}.`]);
        assert.deepEqual(await listTags(`http://127.0.0.1:${setting}`, 'moved/direct'), ['1']);
      } finally {
        await moved.stop();
        moved.dispose();
        await new Promise<void>((r) => blocker.close(() => r()));
      }
    });

    it('an image for a loopback port where nothing listens gets the engine\'s refusal with advice to check the address, not insecure-registries', async () => {
      const nowhere = await freePort();
      const reference = `127.0.0.1:${nowhere}/other/app:1`;
      await engine.tag(small, reference);
      const e = deps([]);
      await e.store.save({ id: `127.0.0.1:${nowhere}`, label: 'Elsewhere', server: `127.0.0.1:${nowhere}`, preset: 'generic', insecureHttp: true });
      await runCommand(pushLocalImage, e, [await nodeOf(reference)]);
      const [error = ''] = e.ui.messages('error');
      assert.match(error, /connection refused/);
      assert.match(error, /Nothing is listening at that address: check the host and port, and that the registry is running\./);
      assert.doesNotMatch(error, /insecure-registries/);
      assert.ok((await engineTags()).includes(reference), 'the person\'s own tag stays after a failed push');

      // The same failure through Retag and Push: the tag it added for the push goes, and the message says so.
      const retag = deps([{ pick: 'Elsewhere' }, { input: 'other/retagged' }, { input: '1' }]);
      await retag.store.save({ id: `127.0.0.1:${nowhere}`, label: 'Elsewhere', server: `127.0.0.1:${nowhere}`, preset: 'generic', insecureHttp: true });
      await runCommand(retagAndPush, retag, [await nodeOf(small)]);
      assert.match(retag.ui.messages('error')[0] ?? '', /connection refused.*Nothing is listening at that address.* Its temporary tag was removed\.$/);
      assert.ok(!(await engineTags()).includes(`127.0.0.1:${nowhere}/other/retagged:1`));
    });
  });
});
