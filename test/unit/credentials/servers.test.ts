import * as assert from 'node:assert/strict';
import { configKeyFor, isDockerHub, sameServer, serverHost } from '../../../src/credentials/servers';

describe('credentials: server keys', () => {
  const table: Array<{ input: string; host: string; key: string }> = [
    { input: 'https://index.docker.io/v1/', host: 'docker.io', key: 'https://index.docker.io/v1/' },
    { input: 'docker.io', host: 'docker.io', key: 'https://index.docker.io/v1/' },
    { input: 'registry-1.docker.io', host: 'docker.io', key: 'https://index.docker.io/v1/' },
    { input: 'index.docker.io', host: 'docker.io', key: 'https://index.docker.io/v1/' },
    { input: 'https://registry-1.docker.io/v2/', host: 'docker.io', key: 'https://index.docker.io/v1/' },
    { input: 'ghcr.io', host: 'ghcr.io', key: 'ghcr.io' },
    { input: 'https://GHCR.io/', host: 'ghcr.io', key: 'ghcr.io' },
    { input: 'http://localhost:5000/v1/', host: 'localhost:5000', key: 'localhost:5000' },
    { input: ' 127.0.0.1:5000 ', host: '127.0.0.1:5000', key: '127.0.0.1:5000' },
  ];
  for (const { input, host, key } of table) {
    it(`normalises "${input}" to host ${host} and config key ${key}`, () => {
      assert.equal(serverHost(input), host);
      assert.equal(configKeyFor(input), key);
    });
  }

  it('treats every Docker Hub name as one registry and keeps ports apart', () => {
    assert.ok(sameServer('docker.io', 'https://index.docker.io/v1/'));
    assert.ok(sameServer('registry-1.docker.io', 'index.docker.io'));
    assert.ok(isDockerHub('https://index.docker.io/v1/'));
    assert.ok(!isDockerHub('docker.example.com'));
    assert.ok(!sameServer('localhost:5000', 'localhost:5001'));
    assert.ok(sameServer('https://ghcr.io', 'ghcr.io'));
  });
});
