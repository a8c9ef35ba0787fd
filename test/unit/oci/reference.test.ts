import * as assert from 'node:assert/strict';
import {
  dockerConfigKey, formatReference, isReferenceError, parseReference, registryApiHost, registryFromConfigKey,
  type Reference, type ReferenceProblem,
} from '../../../src/oci/reference';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  const valid: Array<{ input: string; expected: Reference; familiar: string; full: string }> = [
    { input: 'nginx', expected: { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, familiar: 'nginx:latest', full: 'docker.io/library/nginx:latest' },
    { input: 'nginx:1.25', expected: { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }, familiar: 'nginx:1.25', full: 'docker.io/library/nginx:1.25' },
    { input: 'library/nginx', expected: { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, familiar: 'nginx:latest', full: 'docker.io/library/nginx:latest' },
    { input: 'docker.io/nginx', expected: { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, familiar: 'nginx:latest', full: 'docker.io/library/nginx:latest' },
    { input: 'index.docker.io/nginx', expected: { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }, familiar: 'nginx:latest', full: 'docker.io/library/nginx:latest' },
    { input: 'team/app', expected: { registry: 'docker.io', repository: 'team/app', tag: 'latest' }, familiar: 'team/app:latest', full: 'docker.io/team/app:latest' },
    { input: 'docker.io/library/a/b', expected: { registry: 'docker.io', repository: 'library/a/b', tag: 'latest' }, familiar: 'library/a/b:latest', full: 'docker.io/library/a/b:latest' },
    { input: 'localhost/app', expected: { registry: 'localhost', repository: 'app', tag: 'latest' }, familiar: 'localhost/app:latest', full: 'localhost/app:latest' },
    { input: 'localhost:5000/x', expected: { registry: 'localhost:5000', repository: 'x', tag: 'latest' }, familiar: 'localhost:5000/x:latest', full: 'localhost:5000/x:latest' },
    { input: 'localhost:5000/x:v1', expected: { registry: 'localhost:5000', repository: 'x', tag: 'v1' }, familiar: 'localhost:5000/x:v1', full: 'localhost:5000/x:v1' },
    { input: 'myhost:5000/a/b', expected: { registry: 'myhost:5000', repository: 'a/b', tag: 'latest' }, familiar: 'myhost:5000/a/b:latest', full: 'myhost:5000/a/b:latest' },
    { input: 'ghcr.io/org/app:1.0', expected: { registry: 'ghcr.io', repository: 'org/app', tag: '1.0' }, familiar: 'ghcr.io/org/app:1.0', full: 'ghcr.io/org/app:1.0' },
    { input: '127.0.0.1:5000/a', expected: { registry: '127.0.0.1:5000', repository: 'a', tag: 'latest' }, familiar: '127.0.0.1:5000/a:latest', full: '127.0.0.1:5000/a:latest' },
    { input: '[::1]:5000/a', expected: { registry: '[::1]:5000', repository: 'a', tag: 'latest' }, familiar: '[::1]:5000/a:latest', full: '[::1]:5000/a:latest' },
    { input: 'Registry.Example.com/a', expected: { registry: 'Registry.Example.com', repository: 'a', tag: 'latest' }, familiar: 'Registry.Example.com/a:latest', full: 'Registry.Example.com/a:latest' },
    { input: `nginx@${D}`, expected: { registry: 'docker.io', repository: 'library/nginx', digest: D }, familiar: `nginx@${D}`, full: `docker.io/library/nginx@${D}` },
    { input: `localhost:5000/x:v1@${D}`, expected: { registry: 'localhost:5000', repository: 'x', tag: 'v1', digest: D }, familiar: `localhost:5000/x:v1@${D}`, full: `localhost:5000/x:v1@${D}` },
    { input: 'a_b__c-d---e/f.g', expected: { registry: 'docker.io', repository: 'a_b__c-d---e/f.g', tag: 'latest' }, familiar: 'a_b__c-d---e/f.g:latest', full: 'docker.io/a_b__c-d---e/f.g:latest' },
    { input: '  busybox:_x  ', expected: { registry: 'docker.io', repository: 'library/busybox', tag: '_x' }, familiar: 'busybox:_x', full: 'docker.io/library/busybox:_x' },
  ];
  for (const { input, expected, familiar, full } of valid) {
    it(`parses "${input.trim().slice(0, 48)}" as ${full.slice(0, 60)}`, () => {
      const r = parseReference(input);
      assert.deepEqual(r, expected);
      assert.ok(!isReferenceError(r));
      assert.equal(formatReference(r), familiar);
      assert.equal(formatReference(r, 'full'), full);
      assert.deepEqual(parseReference(formatReference(r, 'full')), expected, 'the full form parses back to the same reference');
    });
  }

  const invalid: Array<{ input: string; problem: ReferenceProblem }> = [
    { input: '', problem: 'empty' },
    { input: 'Nginx', problem: 'uppercase-repository' },
    { input: 'Team/App', problem: 'uppercase-repository' },
    { input: 'localhost:5000/App', problem: 'uppercase-repository' },
    { input: 'nginx:', problem: 'bad-tag' },
    { input: 'nginx:-x', problem: 'bad-tag' },
    { input: `nginx:${'a'.repeat(129)}`, problem: 'bad-tag' },
    { input: 'nginx@sha256:abc', problem: 'bad-digest' },
    { input: 'nginx@', problem: 'bad-digest' },
    { input: 'a//b', problem: 'bad-repository' },
    { input: 'a/', problem: 'bad-repository' },
    { input: 'localhost:5000/', problem: 'bad-repository' },
    { input: 'a___b', problem: 'bad-repository' },
    { input: '-host.com/a', problem: 'bad-host' },
    { input: 'ho_st.com:5000/a', problem: 'bad-host' },
    { input: 'a_b.c/d', problem: 'bad-host' },
    { input: 'https://ghcr.io/org/app', problem: 'bad-host' },
    { input: 'a'.repeat(64).replace(/a/g, 'f'), problem: 'ambiguous-digest' },
    { input: `example.com/${'a'.repeat(250)}`, problem: 'too-long' },
  ];
  for (const { input, problem } of invalid) {
    it(`rejects "${input.slice(0, 40)}" as ${problem} with a message`, () => {
      const r = parseReference(input);
      assert.ok(isReferenceError(r), `expected an error, got ${JSON.stringify(r)}`);
      assert.equal(r.problem, problem);
      assert.ok(r.message.length > 20);
    });
  }

  it('leaves the tag out when asked not to default it', () => {
    assert.deepEqual(parseReference('nginx', { defaultTag: false }), { registry: 'docker.io', repository: 'library/nginx' });
  });

  const hosts: Array<{ registry: string; api: string; key: string }> = [
    { registry: 'docker.io', api: 'registry-1.docker.io', key: 'https://index.docker.io/v1/' },
    { registry: 'index.docker.io', api: 'registry-1.docker.io', key: 'https://index.docker.io/v1/' },
    { registry: 'ghcr.io', api: 'ghcr.io', key: 'ghcr.io' },
    { registry: 'localhost:5000', api: 'localhost:5000', key: 'localhost:5000' },
  ];
  for (const { registry, api, key } of hosts) {
    it(`maps registry ${registry} to API host ${api} and config key ${key}`, () => {
      assert.equal(registryApiHost(registry), api);
      assert.equal(dockerConfigKey(registry), key);
    });
  }

  const keys: Array<[string, string]> = [
    ['https://index.docker.io/v1/', 'docker.io'], ['https://ghcr.io', 'ghcr.io'], ['quay.io', 'quay.io'], ['http://localhost:5000/v2/', 'localhost:5000'],
  ];
  for (const [key, registry] of keys) it(`reads config key ${key} as registry ${registry}`, () => assert.equal(registryFromConfigKey(key), registry));
});
