/**
 * What the extension talks to in the end-to-end tier, started once by the runner and handed to the
 * extension host through `extensionEnvironment`: Debian's docker-registry and a private dockerd.
 */
import { startDistribution, type Distribution } from '../support/distribution';
import { startDockerd, type Dockerd } from '../support/dockerd';

export interface Fixtures {
  distribution: Distribution;
  dockerd: Dockerd;
  stop(): Promise<void>;
}

/** The environment variables tests (host and UI) read the fixtures from. */
export function fixtureEnv(f: Fixtures): Record<string, string> {
  return {
    BERTH_E2E_DISTRIBUTION_URL: f.distribution.url,
    BERTH_E2E_DOCKER_CONFIG: f.dockerd.configDir,
    DOCKER_HOST: f.dockerd.host,
  };
}

let current: Fixtures | undefined;

/** The runner's fixtures, for UI tests (they run in the runner's process). */
export function fixtures(): Fixtures {
  if (!current) throw new Error('the e2e fixtures are not running: run the UI tests through test/e2e/run.ts');
  return current;
}

export async function startFixtures(log: (line: string) => void): Promise<Fixtures> {
  const [distribution, dockerd] = await Promise.allSettled([startDistribution(), startDockerd()]);
  if (distribution.status === 'rejected' || dockerd.status === 'rejected') {
    if (distribution.status === 'fulfilled') await distribution.value.stop();
    if (dockerd.status === 'fulfilled') await dockerd.value.stop();
    const why = [distribution, dockerd].filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    throw new Error(`could not start the e2e fixtures: ${why.join('; ')}`);
  }
  log(`fixtures: docker-registry on ${distribution.value.url}, dockerd on ${dockerd.value.host}`);
  current = {
    distribution: distribution.value,
    dockerd: dockerd.value,
    async stop() {
      current = undefined;
      await Promise.all([distribution.value.stop(), dockerd.value.stop()]);
    },
  };
  return current;
}
