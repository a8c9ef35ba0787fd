import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { removeDir, tempDir } from '../../support/proc';
import { buildImage, getManifest, pushBuilt } from '../../support/ociImage';
import { startLocalRegistry, statusOf, waitFor } from './host';

/** Command lines of the processes serving `--listen 127.0.0.1:<port>` (Linux /proc). */
function registryProcesses(port: number): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes('registry.js') && cmd.includes(`127.0.0.1:${port}`)) found.push({ pid: Number(name), cmd });
  }
  return found;
}

describe('the local registry through its commands (berth.local.*)', () => {
  let storage: string;
  beforeEach(() => {
    storage = tempDir('e2e-local');
  });
  afterEach(() => {
    removeDir(storage);
  });

  it('starts as its own process on the configured loopback port, then stops and frees the port', async () => {
    const reg = await startLocalRegistry(storage);
    try {
      const procs = registryProcesses(reg.port);
      assert.equal(procs.length, 1, `processes serving :${reg.port}: ${JSON.stringify(procs)}`);
      assert.notEqual(procs[0]?.pid, process.pid, 'the registry must not run inside the extension host');
      assert.ok(procs[0]?.cmd.includes(storage), `storage folder not passed: ${procs[0]?.cmd}`);
    } finally {
      await reg.stop();
    }
    await waitFor(`port ${reg.port} to close`, async () => ((await statusOf(`${reg.url}/v2/`)) === 0 ? true : undefined), 15_000);
    assert.deepEqual(registryProcesses(reg.port), []);
  });

  it('keeps a finished push across stop and start', async () => {
    const image = buildImage();
    let reg = await startLocalRegistry(storage);
    try {
      await pushBuilt(reg.url, 'e2e/kept', image, '1.0');
    } finally {
      await reg.stop();
    }
    reg = await startLocalRegistry(storage);
    try {
      const got = await getManifest(reg.url, 'e2e/kept', '1.0');
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('docker-content-digest'), image.digest);
    } finally {
      await reg.stop();
    }
  });
});
