import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CredentialHelper, CredentialHelperError, DockerCredentialStore } from '../../../src/credentials';
import { removeDir, tempDir } from '../../support/proc';
import { fakeHelpersPath, startPassStore, type PassStore } from './fixtures';

describe('credentials: docker-credential-pass, for real', () => {
  let pass: PassStore;
  let dir: string;
  before(async () => {
    pass = await startPassStore();
  });
  after(async () => {
    await pass?.cleanup();
  });
  beforeEach(() => {
    dir = tempDir('dockercfg');
  });
  afterEach(() => removeDir(dir));

  it('stores, gets, lists and erases through the helper protocol', async () => {
    const helper = new CredentialHelper('pass', { env: pass.env });
    await helper.store({ serverUrl: 'direct.example:5000', username: 'u1', secret: 'p:1' });
    assert.deepEqual(await helper.get('direct.example:5000'), { serverUrl: 'direct.example:5000', username: 'u1', secret: 'p:1' });
    assert.equal((await helper.list())['direct.example:5000'], 'u1');
    await helper.erase('direct.example:5000');
    assert.equal(await helper.get('direct.example:5000'), undefined);
    assert.equal((await helper.list())['direct.example:5000'], undefined);
  });

  it('with credsStore: pass, keeps the secret in pass and only a placeholder in config.json', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'pass', detachKeys: 'ctrl-x' }));
    const store = new DockerCredentialStore({ configDir: dir, env: pass.env });
    const where = await store.store('docker.io', { username: 'hubuser', password: 'hub:secret' });
    assert.deepEqual(where, { kind: 'helper', helper: 'pass', via: 'credsStore' });
    const text = readFileSync(join(dir, 'config.json'), 'utf8');
    assert.ok(!text.includes('hub:secret') && !text.includes(Buffer.from('hubuser:hub:secret').toString('base64')), 'no secret in the file');
    assert.deepEqual(JSON.parse(text), { credsStore: 'pass', detachKeys: 'ctrl-x', auths: { 'https://index.docker.io/v1/': {} } });
    const got = await store.get('registry-1.docker.io');
    assert.equal(got?.username, 'hubuser');
    assert.equal(got?.password, 'hub:secret');
    assert.deepEqual(got?.source, { kind: 'helper', helper: 'pass', via: 'credsStore' });
    const listed = await store.list();
    assert.ok(listed.entries.some((e) => e.host === 'docker.io' && e.username === 'hubuser' && e.source.kind === 'helper'));
    await store.erase('docker.io');
    assert.equal(await store.get('docker.io'), undefined);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), { credsStore: 'pass', detachKeys: 'ctrl-x', auths: {} });
  });

  it('with credHelpers, uses pass for that host only and auths for the rest', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { 'helped.example:5000': 'pass' } }));
    const store = new DockerCredentialStore({ configDir: dir, env: pass.env });
    assert.deepEqual(await store.store('https://helped.example:5000', { username: 'h', password: 'hp' }), { kind: 'helper', helper: 'pass', via: 'credHelpers' });
    assert.deepEqual(await store.store('plain.example', { username: 'f', password: 'fp' }), { kind: 'file', path: join(dir, 'config.json') });
    assert.equal((await new CredentialHelper('pass', { env: pass.env }).get('helped.example:5000'))?.secret, 'hp');
    assert.equal((await store.get('helped.example:5000'))?.password, 'hp');
    assert.equal((await store.get('plain.example'))?.password, 'fp');
    const hosts = (await store.list()).entries.map((e) => `${e.host}:${e.source.kind}`).sort();
    assert.deepEqual(hosts, ['helped.example:5000:helper', 'plain.example:file']);
    await store.erase('helped.example:5000');
    assert.equal(await store.get('helped.example:5000'), undefined);
  });

  it('keeps an identity token as the helper convention "<token>" and gives it back as a token', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
    const store = new DockerCredentialStore({ configDir: dir, env: pass.env });
    await store.store('token.example', { username: 'ignored', identityToken: 'refresh-xyz' });
    assert.equal((await new CredentialHelper('pass', { env: pass.env }).get('token.example'))?.username, '<token>');
    const got = await store.get('token.example');
    assert.equal(got?.identityToken, 'refresh-xyz');
    assert.equal(got?.password, undefined);
    await store.erase('token.example');
  });

  it('finds credentials a helper holds under another spelling of the server', async () => {
    await new CredentialHelper('pass', { env: pass.env }).store({ serverUrl: 'https://spelled.example:5000', username: 'sp', secret: 'sx' });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
    const store = new DockerCredentialStore({ configDir: dir, env: pass.env });
    const got = await store.get('spelled.example:5000');
    assert.equal(got?.password, 'sx');
    assert.equal(got?.server, 'https://spelled.example:5000');
    await store.erase('spelled.example:5000');
    assert.equal(await store.get('spelled.example:5000'), undefined);
  });
});

describe('credentials: helpers that are missing or misbehave', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = tempDir('helpers');
    env = {
      ...process.env,
      PATH: fakeHelpersPath(dir, {
        failing: 'echo "keychain is locked" >&2; exit 3',
        hanging: 'exec sleep 30',
        garbage: 'cat >/dev/null; echo "this is not json"',
        notfound: 'cat >/dev/null; echo "credentials not found in native keychain"; exit 1',
        echoing: 'echo "cannot store: $(cat)"; exit 1',
      }),
    };
  });
  after(() => removeDir(dir));

  const withStore = (config: object): DockerCredentialStore => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    return new DockerCredentialStore({ configDir: dir, env, helperTimeoutMs: 500 });
  };

  it('says which helper is missing and how to fix it, for credsStore', async () => {
    const store = withStore({ credsStore: 'berth-absent' });
    await assert.rejects(store.get('ghcr.io'), (e: unknown) => e instanceof CredentialHelperError && e.problem === 'missing'
      && e.message === `docker-credential-berth-absent not found on PATH: install it or remove credsStore from ${join(dir, 'config.json')}`);
  });

  it('says which credHelpers entry names a missing helper', async () => {
    const store = withStore({ credHelpers: { 'ghcr.io': 'berth-absent' } });
    await assert.rejects(store.store('ghcr.io', { username: 'a', password: 'b' }), (e: unknown) => e instanceof CredentialHelperError
      && e.problem === 'missing' && e.message.includes('remove credHelpers["ghcr.io"] from'));
    assert.equal(await store.get('quay.io'), undefined, 'other hosts do not use that helper');
  });

  const table: Array<{ helper: string; problem: string; hint: RegExp }> = [
    { helper: 'failing', problem: 'failed', hint: /docker-credential-failing get failed \(exit 3\): keychain is locked/ },
    { helper: 'hanging', problem: 'timeout', hint: /did not answer within 500 ms/ },
    { helper: 'garbage', problem: 'bad-output', hint: /not JSON/ },
  ];
  for (const { helper, problem, hint } of table) {
    it(`reports a ${helper} helper as ${problem}`, async () => {
      const store = withStore({ credsStore: helper });
      await assert.rejects(store.get('ghcr.io'), (e: unknown) => e instanceof CredentialHelperError && e.problem === problem && hint.test(e.message));
    });
  }

  it('treats "credentials not found" as no credentials, not as a failure', async () => {
    const store = withStore({ credsStore: 'notfound', auths: { 'ghcr.io': {} } });
    assert.equal(await store.get('ghcr.io'), undefined);
  });

  it('never repeats the secret a failing helper echoes back', async () => {
    const store = withStore({ credsStore: 'echoing' });
    await assert.rejects(store.store('ghcr.io', { username: 'u', password: 'hunter2-secret' }), (e: unknown) =>
      e instanceof CredentialHelperError && e.problem === 'failed' && e.message.includes('***') && !e.message.includes('hunter2-secret'));
  });

  it('refuses a helper name that is not a plain name', () => {
    assert.throws(() => new CredentialHelper('../../bin/sh'), CredentialHelperError);
  });
});
