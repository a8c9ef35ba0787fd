/**
 * The `berth-registry` command as a user runs it: usage, config errors, the ready line, the root lock,
 * and graceful shutdown.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startBerthRegistry, REGISTRY_CLI } from '../../support/berthRegistry';
import { removeDir, sleep, tempDir } from '../../support/proc';
import { call, startUpload } from './http';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [REGISTRY_CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Served {
  url: string;
  pid: number;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string | null>;
  stop(): Promise<void>;
}

/** Runs `serve` as a child whose exit code the test can see. */
async function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [REGISTRY_CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited (${String(code)}) before it was ready`)));
  });
  return {
    url, pid: child.pid ?? -1, exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('berth-registry command line', () => {
  let dir: string;
  before(() => {
    dir = tempDir('cli');
  });
  after(() => removeDir(dir));

  it('prints usage for --help and exits 0', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /berth-registry serve \[--listen HOST:PORT\] \[--root DIR\] \[--config FILE\.yml\]/);
    assert.match(r.stdout, /berth-registry gc/);
  });

  const usageErrors: Array<{ args: string[]; says: RegExp }> = [
    { args: [], says: /Usage/ },
    { args: ['launch'], says: /unknown command "launch"/ },
    { args: ['serve', '--port', '5000'], says: /unknown argument "--port"/ },
    { args: ['serve', '--listen'], says: /--listen needs a value/ },
    { args: ['gc', '--force'], says: /unknown argument "--force"/ },
  ];
  for (const u of usageErrors) {
    it(`exits 2 with a clear message for ${JSON.stringify(u.args)}`, () => {
      const r = cli(u.args);
      assert.equal(r.status, 2);
      assert.match(r.stdout + r.stderr, u.says);
    });
  }

  const configErrors: Array<{ yaml: string; says: string }> = [
    { yaml: 'colour: blue\n', says: 'colour: unknown key' },
    { yaml: 'storage:\n  delete:\n    enabled: maybe\n', says: 'storage.delete.enabled: expected true or false' },
    { yaml: 'storage:\n  maxManifestBytes: -5\n', says: 'storage.maxManifestBytes: expected an integer' },
    { yaml: 'listen: nowhere\n', says: 'listen: expected HOST:PORT' },
    { yaml: 'log: [1, 2]\n', says: 'log: expected a mapping' },
    { yaml: 'listen: [unclosed\n', says: 'is not valid YAML' },
  ];
  for (const c of configErrors) {
    it(`exits 2 with one line naming "${c.says}"`, () => {
      const file = join(dir, `bad-${configErrors.indexOf(c)}.yml`);
      writeFileSync(file, c.yaml);
      const r = cli(['serve', '--config', file, '--root', join(dir, 'never')]);
      assert.equal(r.status, 2);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]?.includes(c.says), r.stderr);
    });
  }

  it('exits 2 when the config file does not exist', () => {
    const r = cli(['serve', '--config', join(dir, 'missing.yml')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read config file .*missing\.yml: ENOENT/);
  });

  it('takes listen, root and storage settings from the config file', async () => {
    const root = join(dir, 'from-config');
    const file = join(dir, 'good.yml');
    writeFileSync(file, `listen: 127.0.0.1:0\nroot: ${root}\nlog:\n  level: warn\nstorage:\n  maxManifestBytes: 2048\n`);
    const served = await serve(['--config', file]);
    try {
      const url = served.url;
      const big = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { x: 'y'.repeat(3000) } });
      const r = await call(`${url}/v2/cfg/repo/manifests/v1`, { method: 'PUT', body: big, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(r.status, 413);
    } finally {
      await served.stop();
    }
  });

  it('prints exactly one line, "listening on http://HOST:PORT", on stdout, with the real port for :0', async () => {
    const reg = await startBerthRegistry();
    try {
      assert.notEqual(reg.port, 0);
      assert.equal((await call(`${reg.url}/v2/`)).status, 200);
    } finally {
      await reg.stop();
    }
    const stdoutLines = reg.output().split('\n').filter((l) => l.startsWith('listening on'));
    assert.deepEqual(stdoutLines, [`listening on http://127.0.0.1:${reg.port}`]);
  });

  it('refuses to serve a root a live server holds, naming its pid, and takes over a stale lock', async () => {
    const root = join(dir, 'locked');
    const first = await startBerthRegistry({ root });
    try {
      const second = cli(['serve', '--listen', '127.0.0.1:0', '--root', root]);
      assert.equal(second.status, 1);
      assert.match(second.stderr, new RegExp(`in use by a running server \\(pid ${first.pid}\\)`));
    } finally {
      await first.stop();
    }
    // A lock left by a process that died (kill -9) does not block the next start.
    const dead = spawnSync('true');
    mkdirSync(join(root, '.berth'), { recursive: true });
    writeFileSync(join(root, '.berth', 'lock'), `${dead.pid}\nserver\n`);
    const third = await startBerthRegistry({ root });
    await third.stop();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`finishes a request in flight on ${signal}, refuses new connections, and exits 0`, async () => {
      const served = await serve(['--listen', '127.0.0.1:0', '--root', join(dir, `graceful-${signal}`)]);
      try {
        const loc = await startUpload(served.url, 'graceful/repo');
        const url = new URL(loc);
        const chunk = Buffer.alloc(64 * 1024, 7);
        const reply = new Promise<number>((resolve, reject) => {
          const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          void (async () => {
            req.write(chunk);
            await sleep(300);
            process.kill(served.pid, signal);
            await sleep(500);
            const refused = await fetch(`${served.url}/v2/`).then(() => false, () => true);
            assert.ok(refused, 'new connections are refused while draining');
            for (let i = 0; i < 5; i++) {
              req.write(chunk);
              await sleep(100);
            }
            req.end();
          })().catch(reject);
        });
        assert.equal(await reply, 202, 'the upload in flight completed');
        assert.equal(await served.exited, 0);
      } finally {
        await served.stop();
      }
    });
  }

  it('cuts a request that outlasts the 5 s grace period and still exits 0', async () => {
    const served = await serve(['--listen', '127.0.0.1:0', '--root', join(dir, 'grace-cut')]);
    try {
      const loc = new URL(await startUpload(served.url, 'slow/repo'));
      const req = request({ host: loc.hostname, port: loc.port, path: loc.pathname, method: 'PATCH' });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(1024));
      await sleep(200);
      const started = Date.now();
      process.kill(served.pid, 'SIGTERM');
      assert.equal(await served.exited, 0);
      const tookMs = Date.now() - started;
      assert.ok(tookMs >= 4_000 && tookMs < 9_000, `exited after ${tookMs} ms`);
      req.destroy();
    } finally {
      await served.stop();
    }
  });
});
