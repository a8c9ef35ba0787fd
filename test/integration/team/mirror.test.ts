/**
 * A docker daemon with Berth as its registry mirror, Debian's docker-registry as Berth's upstream.
 *
 * A daemon consults mirrors only for Docker Hub images, so the test pulls `berth-mirror-test:1`
 * (docker.io/library/berth-mirror-test): the daemon asks the mirror for `library/berth-mirror-test`,
 * and Berth fetches it from the upstream, where the test pushed it. Nothing may leave loopback: the
 * daemon runs with HTTP(S)_PROXY pointing at a closed loopback port, which Go's proxy rules bypass for
 * loopback addresses only, so a fallback to Docker Hub would fail instead of reaching the internet.
 */
import { strict as assert } from 'node:assert';
import { containerTools, dockerBuildScratch, expectedScratchOutput, type ContainerTools } from '../../support/clients';
import { startDistribution, type Distribution } from '../../support/distribution';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { freePort, outputMatching, sleep } from '../../support/proc';
import { startTeamRegistry, type TeamRegistry } from './teamRegistry';

const IMAGE = 'berth-mirror-test:1';
const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;

async function withDeadProxy<T>(run: () => Promise<T>): Promise<T> {
  const saved = PROXY_VARS.map((k) => [k, process.env[k]] as const);
  const dead = `http://127.0.0.1:${await freePort()}`;
  for (const k of PROXY_VARS) delete process.env[k];
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) process.env[k] = dead;
  try {
    return await run();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('docker daemon using Berth as its registry mirror', function () {
  let upstream: Distribution;
  let mirror: TeamRegistry;
  let dockerd: Dockerd;
  let tools: ContainerTools;
  let imageId: string;
  const opts = { layers: 2, label: 'through-the-mirror' };

  before(async function () {
    upstream = await startDistribution();
    mirror = await startTeamRegistry({ config: { proxy: { remoteurl: upstream.url, ttl: '1s' } } });
    dockerd = await withDeadProxy(() => startDockerd({ registryMirrors: [mirror.url] }));
    tools = containerTools();
    const upstreamRef = `${upstream.host}/library/${IMAGE}`;
    await dockerBuildScratch(dockerd, upstreamRef, opts);
    await dockerd.docker(['push', upstreamRef]);
    imageId = (await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', upstreamRef])).stdout.trim();
    await dockerd.docker(['rmi', upstreamRef]);
  });
  after(async function () {
    await dockerd?.stop();
    await tools?.cleanup();
    await mirror?.stop();
    await upstream?.stop();
  });

  it('the daemon cannot reach Docker Hub: without the mirror answering, the pull fails', async function () {
    const info = (await dockerd.docker(['info', '--format', '{{json .RegistryConfig.Mirrors}} {{.HTTPProxy}}'])).stdout;
    assert.ok(info.includes(mirror.url), `mirrors: ${info}`);
    assert.match(info, /http:\/\/127\.0\.0\.1:\d+/, 'the daemon runs behind the dead loopback proxy');
    const missing = await dockerd.docker(['pull', 'berth-absent-everywhere:1']).then(() => 'pulled', (e: Error) => e.message);
    assert.notEqual(missing, 'pulled');
  });

  it('pulls a Docker Hub name through the mirror, which fetches it from its upstream', async function () {
    await dockerd.docker(['pull', IMAGE]);
    assert.equal((await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE])).stdout.trim(), imageId);
    await outputMatching(mirror, /"path":"\/v2\/library\/berth-mirror-test\/manifests\/1","route":"manifests","status":200/);
    assert.equal((await dockerd.docker(['run', '--rm', '--network', 'none', IMAGE])).stdout, expectedScratchOutput(opts));
    const metrics = await (await fetch(`${mirror.url}/metrics`)).text();
    assert.match(metrics, /^berth_proxy_cache_requests_total\{kind="blob",result="miss"\} [1-9]/m);
  });

  it('still pulls the cached image after the upstream is stopped', async function () {
    await upstream.stop();
    await dockerd.docker(['rmi', IMAGE]);
    await sleep(1500);
    await dockerd.docker(['pull', IMAGE]);
    assert.equal((await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE])).stdout.trim(), imageId);
    assert.equal((await dockerd.docker(['run', '--rm', '--network', 'none', IMAGE])).stdout, expectedScratchOutput(opts));
    await outputMatching(mirror, /pull-through upstream failed; serving from the cache/);
  });
});
