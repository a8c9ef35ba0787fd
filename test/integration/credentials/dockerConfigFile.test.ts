import * as assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerConfigError, DockerCredentialStore } from '../../../src/credentials';
import { removeDir, tempDir } from '../../support/proc';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('credentials: config.json auths (no helper)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('dockercfg');
  });
  afterEach(() => removeDir(dir));

  const readJson = (): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;

  it('stores a login into auths with mode 0600, keeping every other key, and reads it back', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      auths: { 'other.example': { auth: b64('x:y') } }, psFormat: 'table {{.ID}}', proxies: { default: { httpProxy: 'http://p:3128' } }, currentContext: 'default',
    }), { mode: 0o644 });
    const store = new DockerCredentialStore({ configDir: dir, env: {} });
    const where = await store.store('localhost:5000', { username: 'alice', password: 'pa:ss' });
    assert.deepEqual(where, { kind: 'file', path: join(dir, 'config.json') });
    const written = readJson();
    assert.equal(written['psFormat'], 'table {{.ID}}');
    assert.deepEqual(written['proxies'], { default: { httpProxy: 'http://p:3128' } });
    assert.equal(written['currentContext'], 'default');
    assert.deepEqual(written['auths'], { 'other.example': { auth: b64('x:y') }, 'localhost:5000': { auth: b64('alice:pa:ss') } });
    assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['config.json'], 'no temp file is left behind');
    const got = await store.get('http://localhost:5000/');
    assert.deepEqual(got, { server: 'localhost:5000', username: 'alice', password: 'pa:ss', source: { kind: 'file', path: join(dir, 'config.json') } });
  });

  it('creates the folder and file when neither exists', async () => {
    const nested = join(dir, 'a', 'b');
    const store = new DockerCredentialStore({ configDir: nested, env: {} });
    assert.equal(await store.get('ghcr.io'), undefined);
    await store.store('ghcr.io', { username: 'octo', password: 'tok' });
    assert.equal(statSync(join(nested, 'config.json')).mode & 0o777, 0o600);
    assert.equal((await store.get('ghcr.io'))?.password, 'tok');
  });

  it('files Docker Hub under https://index.docker.io/v1/ and finds it under each of its names', async () => {
    const store = new DockerCredentialStore({ configDir: dir, env: {} });
    await store.store('docker.io', { username: 'hub', password: 'h' });
    assert.deepEqual(Object.keys(readJson()['auths'] as object), ['https://index.docker.io/v1/']);
    for (const name of ['docker.io', 'registry-1.docker.io', 'index.docker.io', 'https://index.docker.io/v1/']) {
      assert.equal((await store.get(name))?.username, 'hub', name);
    }
  });

  it('finds entries written under older key spellings and with an identity token', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      auths: {
        'https://ghcr.io': { auth: b64('octo:gh') },
        'registry.example.com': { auth: b64('me:'), identitytoken: 'refresh-1' },
        'placeholder.example': {},
      },
    }));
    const store = new DockerCredentialStore({ configDir: dir, env: {} });
    assert.equal((await store.get('ghcr.io'))?.password, 'gh');
    const tokenLogin = await store.get('registry.example.com');
    assert.equal(tokenLogin?.identityToken, 'refresh-1');
    assert.equal(tokenLogin?.username, 'me');
    assert.equal(await store.get('placeholder.example'), undefined, 'an empty entry is no credential');
    const { entries, problems } = await store.list();
    assert.deepEqual(problems, []);
    assert.deepEqual(entries.map((e) => [e.server, e.host, e.username]), [['https://ghcr.io', 'ghcr.io', 'octo'], ['registry.example.com', 'registry.example.com', 'me']]);
    assert.ok(!JSON.stringify(entries).includes('refresh-1') && !JSON.stringify(entries).includes('"gh"'), 'the listing carries no secret');
  });

  it('erases every spelling of a server and nothing else', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      auths: { 'https://ghcr.io': { auth: b64('a:b') }, 'ghcr.io': { auth: b64('c:d') }, 'quay.io': { auth: b64('e:f') } },
    }));
    const store = new DockerCredentialStore({ configDir: dir, env: {} });
    await store.erase('GHCR.io');
    assert.deepEqual(readJson(), { auths: { 'quay.io': { auth: b64('e:f') } } });
    await store.erase('never-stored.example');
  });

  it('writes through a symlinked config.json and keeps the link', async () => {
    const real = join(dir, 'dotfiles');
    mkdirSync(real);
    writeFileSync(join(real, 'config.json'), '{"auths":{}}');
    const cfgDir = join(dir, 'cfg');
    mkdirSync(cfgDir);
    symlinkSync(join(real, 'config.json'), join(cfgDir, 'config.json'));
    await new DockerCredentialStore({ configDir: cfgDir, env: {} }).store('quay.io', { username: 'q', password: 'r' });
    assert.ok(lstatSync(join(cfgDir, 'config.json')).isSymbolicLink());
    assert.match(readFileSync(join(real, 'config.json'), 'utf8'), /quay\.io/);
  });

  it('refuses to overwrite a config.json that is not valid JSON and leaves it as it was', async () => {
    writeFileSync(join(dir, 'config.json'), '{"auths": {');
    const store = new DockerCredentialStore({ configDir: dir, env: {} });
    await assert.rejects(store.store('quay.io', { username: 'q', password: 'r' }), (e: unknown) =>
      e instanceof DockerConfigError && e.message.includes(join(dir, 'config.json')) && /not valid JSON/.test(e.message));
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"auths": {');
  });

  it('keeps every login when several are stored at once', async () => {
    const store = new DockerCredentialStore({ configDir: dir, env: {} });
    const hosts = Array.from({ length: 12 }, (_, i) => `r${i}.example:5000`);
    await Promise.all(hosts.map((h, i) => store.store(h, { username: `u${i}`, password: `p${i}` })));
    assert.deepEqual(Object.keys(readJson()['auths'] as object).sort(), [...hosts].sort());
    assert.equal((await store.get('r7.example:5000'))?.password, 'p7');
  });

  it('refuses to store a login without a password or token, writing nothing', async () => {
    const store = new DockerCredentialStore({ configDir: dir, env: {} });
    await assert.rejects(store.store('quay.io', { username: 'q' }), /give a password, an access token or an identity token/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('follows DOCKER_CONFIG from the environment it is given', async () => {
    const store = new DockerCredentialStore({ env: { DOCKER_CONFIG: dir } });
    assert.equal(store.configPath, join(dir, 'config.json'));
  });
});
