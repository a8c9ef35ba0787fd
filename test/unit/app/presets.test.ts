import { strict as assert } from 'node:assert';
import { entryFromDraft, presetForHost, presetOf } from '../../../src/app/presets';
import { isLoopbackHost } from '../../../src/oci/host';

describe('loopback hosts: the one rule for client, registry and extension', () => {
  const table: Array<[string, boolean]> = [
    ['localhost', true], ['localhost:5000', true], ['a.localhost', true], ['LOCALHOST:1', true],
    ['127.0.0.1', true], ['127.1.2.3:80', true], ['::1', true], ['[::1]', true], ['[::1]:5000', true], ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true], ['[::ffff:127.0.0.1]:5000', true],
    ['0.0.0.0', false], ['::', false], ['::ffff:10.0.0.1', false], ['10.0.0.1:5000', false], ['ghcr.io', false],
    ['localhost.example.com', false], ['registry.lan', false],
  ];
  for (const [host, expected] of table) it(`treats ${host} as ${expected ? '' : 'not '}loopback`, () => assert.equal(isLoopbackHost(host), expected));
});

describe('presets', () => {
  const hosts: Array<[string, string]> = [
    ['docker.io', 'dockerhub'], ['index.docker.io', 'dockerhub'], ['ghcr.io', 'ghcr'], ['quay.io', 'quay'], ['registry.gitlab.com', 'gitlab'],
    ['localhost:5000', 'local'], ['[::1]:5000', 'local'], ['::1', 'local'], ['harbor.example.com', 'generic'],
  ];
  for (const [host, preset] of hosts) it(`maps ${host} to the ${preset} preset`, () => assert.equal(presetForHost(host), preset));

  it('a known host keeps its own preset even when connected as "Other registry"', () => {
    const entry = entryFromDraft({ preset: 'generic', server: 'docker.io', username: 'me', secret: 's', email: '' });
    assert.equal(entry.preset, 'dockerhub');
    assert.equal(presetOf(entry).listing, 'account-namespace');
  });

  it('lists repositories through the catalog everywhere but Docker Hub', () => {
    for (const id of ['ghcr', 'quay', 'gitlab', 'generic', 'local'] as const) {
      assert.equal(presetOf({ id: 'x', label: 'x', server: 'x', preset: id }).listing, 'catalog');
    }
  });
});
