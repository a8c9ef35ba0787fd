import * as assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  InvalidRegistrySecretError, dockerConfigJson, isValidSecretName, kubernetesPullSecretYaml, namespaceProblem, secretNameProblem,
  serverProblem, suggestSecretName, validateRegistrySecret, type DockerRegistrySecret,
} from '../../../src/credentials/registrySecret';

describe('credentials: docker-registry secret', () => {
  const good: DockerRegistrySecret = { server: 'ghcr.io', username: 'octo', password: 'ghp_x:y', email: 'octo@example.com' };

  it('accepts a complete secret', () => assert.deepEqual(validateRegistrySecret(good), []));

  const badTable: Array<{ change: Partial<DockerRegistrySecret>; field: string; hint: RegExp }> = [
    { change: { server: '' }, field: 'server', hint: /Enter the registry server/ },
    { change: { server: 'ghcr .io' }, field: 'server', hint: /whitespace/ },
    { change: { server: 'ftp://ghcr.io' }, field: 'server', hint: /https:\/\/ or http:\/\// },
    { change: { server: 'bad_host!' }, field: 'server', hint: /not a host name/ },
    { change: { server: 'localhost:70000' }, field: 'server', hint: /out of range/ },
    { change: { username: '' }, field: 'username', hint: /Enter the username/ },
    { change: { username: 'a:b' }, field: 'username', hint: /cannot contain ":"/ },
    { change: { username: ' octo' }, field: 'username', hint: /space/ },
    { change: { password: '' }, field: 'password', hint: /Enter the password/ },
    { change: { password: 'tok\n' }, field: 'password', hint: /line break/ },
    { change: { email: 'not-an-email' }, field: 'email', hint: /not an email/ },
  ];
  for (const { change, field, hint } of badTable) {
    it(`marks ${field} for ${JSON.stringify(change)}`, () => {
      const problems = validateRegistrySecret({ ...good, ...change });
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.field, field);
      assert.match(problems[0]?.message ?? '', hint);
    });
  }

  it('accepts servers with scheme, port, path and IPv6 literal', () => {
    for (const s of ['https://registry.example.com:5000', 'localhost:5000', 'http://127.0.0.1:5000/', '[::1]:5000', 'https://index.docker.io/v1/']) {
      assert.equal(serverProblem(s), undefined, s);
    }
  });

  const names: Array<{ name: string; ok: boolean; hint?: RegExp }> = [
    { name: 'ghcr-io', ok: true }, { name: 'a', ok: true }, { name: '9', ok: true }, { name: 'a'.repeat(253), ok: true },
    { name: 'a'.repeat(254), ok: false, hint: /254 characters/ }, { name: '', ok: false, hint: /Enter a name/ },
    { name: 'Ghcr', ok: false, hint: /lowercase/ }, { name: 'ghcr.io', ok: true }, { name: 'team.pull-1.example', ok: true },
    { name: 'ghcr_io', ok: false, hint: /letters, digits, "-" and "."/ }, { name: '-ghcr', ok: false, hint: /Start and end/ },
    { name: 'ghcr-', ok: false, hint: /Start and end/ }, { name: 'ghcr.-io', ok: false, hint: /"-io"/ },
    { name: '.ghcr', ok: false, hint: /start or end the name with "."/ }, { name: 'ghcr..io', ok: false, hint: /two dots/ },
  ];
  for (const { name, ok, hint } of names) {
    it(`${ok ? 'accepts' : 'rejects'} secret name "${name.slice(0, 20)}"`, () => {
      assert.equal(isValidSecretName(name), ok);
      if (hint) assert.match(secretNameProblem(name) ?? '', hint);
    });
  }

  const namespaces: Array<{ namespace: string; hint?: RegExp }> = [
    { namespace: 'default' }, { namespace: 'team-a' }, { namespace: 'a'.repeat(63) },
    { namespace: 'a'.repeat(64), hint: /64 characters long: at most 63/ }, { namespace: 'team.a', hint: /no "\."/ },
    { namespace: 'Team', hint: /lowercase/ }, { namespace: '-team', hint: /Start and end/ }, { namespace: '', hint: /leave it out/ },
  ];
  for (const { namespace, hint } of namespaces) {
    it(`${hint ? 'rejects' : 'accepts'} namespace "${namespace.slice(0, 20)}"`, () => {
      if (hint) assert.match(namespaceProblem(namespace) ?? '', hint);
      else assert.equal(namespaceProblem(namespace), undefined);
    });
  }

  it('renders a secret whose name has dots, in the namespace given', async () => {
    const doc = parse(await kubernetesPullSecretYaml(good, { name: 'ghcr.io', namespace: 'team-a' })) as { metadata: Record<string, string> };
    assert.deepEqual(doc.metadata, { name: 'ghcr.io', namespace: 'team-a' });
  });

  const suggestions: Array<[string, string]> = [
    ['ghcr.io', 'ghcr-io'], ['localhost:5000', 'localhost-5000'], ['https://Registry.Example.com:443/v2/', 'registry-example-com-443'],
    ['https://index.docker.io/v1/', 'docker-io'], ['[::1]:5000', '1-5000'], ['...', 'registry-credentials'],
  ];
  for (const [server, expected] of suggestions) {
    it(`suggests "${expected}" for ${server}, a valid name`, () => {
      assert.equal(suggestSecretName(server), expected);
      assert.ok(isValidSecretName(suggestSecretName(server)));
    });
  }
  it('suggests a valid name for a very long host', () => {
    const name = suggestSecretName(`${'a'.repeat(250)}.example.com`);
    assert.ok(isValidSecretName(name) && name.length <= 253);
  });

  it('renders a kubernetes.io/dockerconfigjson Secret whose payload carries the login and its auth', async () => {
    const doc = parse(await kubernetesPullSecretYaml(good, { namespace: 'apps' })) as {
      apiVersion: string; kind: string; type: string; metadata: { name: string; namespace: string }; data: Record<string, string>;
    };
    assert.equal(doc.apiVersion, 'v1');
    assert.equal(doc.kind, 'Secret');
    assert.equal(doc.type, 'kubernetes.io/dockerconfigjson');
    assert.deepEqual(doc.metadata, { name: 'ghcr-io', namespace: 'apps' });
    const payload = JSON.parse(Buffer.from(doc.data['.dockerconfigjson'] ?? '', 'base64').toString()) as unknown;
    assert.deepEqual(payload, {
      auths: { 'ghcr.io': { username: 'octo', password: 'ghp_x:y', email: 'octo@example.com', auth: Buffer.from('octo:ghp_x:y').toString('base64') } },
    });
  });

  it('keys Docker Hub under the v1 URL and leaves out an empty email', () => {
    const payload = JSON.parse(dockerConfigJson({ server: 'docker.io', username: 'u', password: 'p' })) as { auths: Record<string, Record<string, string>> };
    assert.deepEqual(Object.keys(payload.auths), ['https://index.docker.io/v1/']);
    assert.deepEqual(Object.keys(payload.auths['https://index.docker.io/v1/'] ?? {}), ['username', 'password', 'auth']);
  });

  it('refuses to render an invalid secret or name, listing every problem', async () => {
    await assert.rejects(kubernetesPullSecretYaml({ server: '', username: '', password: 'x' }, { name: 'Bad_Name', namespace: 'a.b' }), (e: unknown) =>
      e instanceof InvalidRegistrySecretError && e.problems.map((p) => p.field).join() === 'server,username,name,namespace');
  });
});
