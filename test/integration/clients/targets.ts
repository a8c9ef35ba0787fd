/**
 * The registries every client test runs against with the same body: Berth's embedded registry and
 * Debian's docker-registry (distribution 2.8), which proves a test checks the protocol rather than our
 * own reading of it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FsDriver, type StorageDriver } from '../../../src/server/storage';
import { S3Driver } from '../../../src/server/storage/s3Driver';
import type { S3Config } from '../../../src/server/storage/s3Config';
import { startBerthRegistry } from '../../support/berthRegistry';
import { distributionS3Config, freshBucket, startBerthOnS3 } from '../../support/ceph';
import { startDistribution } from '../../support/distribution';
import { isAlive, removeDir, tempDir, waitFor } from '../../support/proc';

export interface RunningRegistry {
  url: string;
  port: number;
  /** `127.0.0.1:port`, for image references. */
  host: string;
  root: string;
  pid: number;
  stop(): Promise<void>;
}

export interface RegistryTarget {
  name: 'berth' | 'berth-nofsync' | 'berth-s3' | 'distribution' | 'distribution-s3';
  /** Serves the referrers API (distribution 2.8 predates it). */
  referrersApi: boolean;
  /** Starts on `root` when given (the caller then owns the folder), else on a fresh temp root. */
  start(root?: string): Promise<RunningRegistry>;
}

export const berth: RegistryTarget = {
  name: 'berth',
  referrersApi: true,
  start: (root) => startBerthRegistry(root ? { root } : {}),
};

/** Berth with `storage.filesystem.fsync: false`: blobs acknowledged once renamed into place, without an fsync. */
export const berthNoFsync: RegistryTarget = {
  name: 'berth-nofsync',
  referrersApi: true,
  async start(root) {
    const dir = tempDir('nofsync');
    try {
      const config = join(dir, 'config.yml');
      writeFileSync(config, 'storage:\n  filesystem:\n    fsync: false\n');
      const running = await startBerthRegistry({ ...(root ? { root } : {}), args: ['--config', config] });
      return {
        ...running,
        async stop() {
          await running.stop();
          removeDir(dir);
        },
      };
    } catch (e) {
      removeDir(dir);
      throw e;
    }
  },
};

export const distribution: RegistryTarget = {
  name: 'distribution',
  referrersApi: false,
  start: (root) => startDistribution(root ? { root } : {}),
};

/** A bucket per root, so that a restart "on the same root" finds the same data. */
const bucketsByRoot = new Map<string, S3Config>();

async function bucketFor(root: string): Promise<S3Config> {
  let s3 = bucketsByRoot.get(root);
  if (!s3) {
    s3 = await freshBucket();
    bucketsByRoot.set(root, s3);
  }
  return s3;
}

/** Berth on a Ceph RADOS gateway (test/support/ceph.ts), one bucket per root. */
export const berthS3: RegistryTarget = {
  name: 'berth-s3',
  referrersApi: true,
  async start(root) {
    const key = root ?? tempDir('berth-s3-root');
    return startBerthOnS3(await bucketFor(key), { root: key });
  },
};

/** distribution 2.8 with `storage: s3` on the same gateway, one bucket per root. */
export const distributionS3: RegistryTarget = {
  name: 'distribution-s3',
  referrersApi: false,
  async start(root) {
    const key = root ?? tempDir('distribution-s3-root');
    const running = await startDistribution({ storageDriver: distributionS3Config(await bucketFor(key)) });
    return { ...running, root: key };
  },
};

/** The bucket an S3 target stores a root's data in; undefined for a folder. */
export function bucketOf(root: string): S3Config | undefined {
  return bucketsByRoot.get(root);
}

/** The storage behind a root a target served: the folder, or the bucket an S3 target gave it. */
export function storageOf(root: string): StorageDriver {
  const s3 = bucketsByRoot.get(root);
  return s3 ? new S3Driver(s3) : new FsDriver(root);
}

export const TARGETS: readonly RegistryTarget[] = [berth, distribution];

/** The targets of the storage suites (protocol, crash, gc): Berth on each driver, and distribution. */
export const STORAGE_TARGETS: readonly RegistryTarget[] = [berth, berthS3, distribution];

/** Every target running at once, for copies between them; `stopAll` in an `after` hook. */
export class RunningTargets {
  private readonly running = new Map<string, RunningRegistry>();

  async startAll(): Promise<void> {
    for (const target of TARGETS) this.running.set(target.name, await target.start());
  }

  get(target: RegistryTarget): RunningRegistry {
    const r = this.running.get(target.name);
    if (!r) throw new Error(`${target.name} is not running; did the before hook fail?`);
    return r;
  }

  async stopAll(): Promise<void> {
    for (const r of this.running.values()) await r.stop();
    this.running.clear();
  }
}

/** Ordered pairs of different targets: each direction of a copy. */
export function targetPairs(): { source: RegistryTarget; dest: RegistryTarget }[] {
  return TARGETS.flatMap((source) => TARGETS.filter((t) => t !== source).map((dest) => ({ source, dest })));
}

/**
 * A storage root that outlives the registries serving it, for restarts and swaps. Registers an
 * `after` hook in the calling suite that stops whatever still runs and removes the folder.
 */
export class RegistryRoot {
  private folder: string | undefined;
  running: RunningRegistry | undefined;

  constructor(private readonly prefix: string) {}

  /** Made on first use, so that suites mocha filters out leave nothing behind. */
  get dir(): string {
    this.folder ??= tempDir(this.prefix);
    return this.folder;
  }

  get root(): string {
    return join(this.dir, 'data');
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.folder) removeDir(this.folder);
    this.folder = undefined;
  }

  /** Stops the registry serving the root, if any, and starts `target` on it. */
  async start(target: RegistryTarget): Promise<RunningRegistry> {
    await this.stop();
    this.running = await target.start(this.root);
    return this.running;
  }

  async stop(): Promise<void> {
    const r = this.running;
    this.running = undefined;
    await r?.stop();
  }

  /** kill -9 the serving registry and wait until it is gone. */
  async kill(): Promise<void> {
    const r = this.running;
    if (!r) throw new Error('no registry is serving this root');
    this.running = undefined;
    process.kill(r.pid, 'SIGKILL');
    await waitFor(`pid ${r.pid} to die`, async () => (isAlive(r.pid) ? undefined : true), 10_000);
    // Nothing left to signal; this only removes what the start made beside the root (config files).
    await r.stop();
  }
}

export function useRegistryRoot(prefix: string): RegistryRoot {
  const fixture = new RegistryRoot(prefix);
  after(async function () {
    await fixture.dispose();
  });
  return fixture;
}

/** Mocha hooks running `target` on a fresh root for the calling suite; call the result inside tests. */
export function useRegistry(target: RegistryTarget): () => RunningRegistry {
  let running: RunningRegistry | undefined;
  before(async function () {
    running = await target.start();
  });
  after(async function () {
    await running?.stop();
  });
  return () => {
    if (!running) throw new Error(`${target.name} did not start; see the before hook`);
    return running;
  };
}
