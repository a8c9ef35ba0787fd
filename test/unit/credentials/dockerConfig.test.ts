import * as assert from 'node:assert/strict';
import {
  DockerConfigError, containersAuthFiles, decodeAuthEntry, dockerConfigDir, dockerConfigDirs, encodeAuthEntry, parseDockerConfig,
} from '../../../src/credentials/dockerConfig';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('credentials: config.json parts', () => {
  const decodeTable: Array<{ name: string; entry: Parameters<typeof decodeAuthEntry>[0]; expected: ReturnType<typeof decodeAuthEntry> }> = [
    { name: 'splits auth at the first colon only', entry: { auth: b64('alice:pa:ss:word') }, expected: { username: 'alice', password: 'pa:ss:word' } },
    { name: 'keeps an empty password after the colon as no password', entry: { auth: b64('alice:') }, expected: { username: 'alice', password: '' } },
    { name: 'reads username and password fields', entry: { username: 'bob', password: 'secret' }, expected: { username: 'bob', password: 'secret' } },
    { name: 'prefers explicit fields over auth', entry: { auth: b64('old:old'), password: 'new' }, expected: { username: 'old', password: 'new' } },
    { name: 'reads an identity token', entry: { auth: b64('carol:'), identitytoken: 'tok' }, expected: { username: 'carol', password: '', identityToken: 'tok' } },
    { name: 'reads a registry token and email', entry: { registrytoken: 'rt', email: 'a@b.c' }, expected: { registryToken: 'rt', email: 'a@b.c' } },
    { name: 'ignores an auth without a colon', entry: { auth: b64('nocolon') }, expected: {} },
    { name: 'finds nothing in an empty placeholder entry', entry: {}, expected: {} },
  ];
  for (const { name, entry, expected } of decodeTable) it(name, () => assert.deepEqual(decodeAuthEntry(entry), expected));

  it('encodes a login the way it decodes', () => {
    assert.deepEqual(decodeAuthEntry(encodeAuthEntry('dave', 'p:w')), { username: 'dave', password: 'p:w' });
    assert.deepEqual(encodeAuthEntry('erin', '', 'idt'), { auth: b64('erin:'), identitytoken: 'idt' });
  });

  it('parses an empty file as an empty config and keeps unknown keys', () => {
    assert.deepEqual(parseDockerConfig('  \n', '/x/config.json'), {});
    const c = parseDockerConfig('{"auths":{},"psFormat":"table","proxies":{"default":{}}}', '/x/config.json');
    assert.equal(c['psFormat'], 'table');
  });

  const badTable = [
    { text: '{"auths": ', hint: /not valid JSON/ },
    { text: '[1,2]', hint: /does not hold a JSON object/ },
    { text: '{"auths": []}', hint: /"auths" .* must be an object/ },
    { text: '{"credsStore": 3}', hint: /"credsStore" .* must be a helper name/ },
    { text: '{"credHelpers": "pass"}', hint: /"credHelpers" .* must be an object/ },
  ];
  for (const { text, hint } of badTable) {
    it(`refuses ${text} with a message naming the file and the fix`, () => {
      assert.throws(() => parseDockerConfig(text, '/home/me/.docker/config.json'), (e: unknown) =>
        e instanceof DockerConfigError && hint.test(e.message) && e.message.includes('/home/me/.docker/config.json'));
    });
  }

  it('lists Podman\'s auth files in the order containers tools look', () => {
    assert.deepEqual(containersAuthFiles({ REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/user/1' }, '/home/me'),
      ['/a.json', '/run/user/1/containers/auth.json', '/home/me/.config/containers/auth.json']);
    assert.deepEqual(containersAuthFiles({ XDG_CONFIG_HOME: '/cfg' }, '/home/me'), ['/cfg/containers/auth.json']);
  });

  it('uses DOCKER_CONFIG when set, else ~/.docker, and lists both for import', () => {
    assert.equal(dockerConfigDir({}, '/home/me'), '/home/me/.docker');
    assert.equal(dockerConfigDir({ DOCKER_CONFIG: '/etc/dc' }, '/home/me'), '/etc/dc');
    assert.deepEqual(dockerConfigDirs({ DOCKER_CONFIG: '/etc/dc' }, '/home/me'), ['/etc/dc', '/home/me/.docker']);
    assert.deepEqual(dockerConfigDirs({}, '/home/me'), ['/home/me/.docker']);
  });
});
