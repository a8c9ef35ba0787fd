/**
 * skopeo, podman and buildah with private state: storage, registries.conf, containers.conf, policy,
 * auth file, runtime and home folders all live under one temp dir, so tests share nothing with each
 * other or with the machine. Plus building FROM-scratch busybox images with docker and buildah.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { digestOf } from '../../src/oci/digest';
import { startDockerd, type Dockerd } from './dockerd';
import { BUSYBOX, busyboxContext } from './images';
import { removeDir, tempDir } from './proc';

const run = promisify(execFile);

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
}

export type Tool = (args: string[], opts?: RunOptions) => Promise<RunResult>;

export interface ContainerTools {
  dir: string;
  /** The environment every tool runs with (also usable for other containers/* programs). */
  env: NodeJS.ProcessEnv;
  /** Storage flags podman and buildah take before their subcommand. */
  storageArgs: string[];
  /** `containers-storage:` transport prefix naming this private store, for skopeo. */
  storageTransport: string;
  skopeo: Tool;
  podman: Tool;
  buildah: Tool;
  /** Removes containers and the whole private state. */
  cleanup(): Promise<void>;
}

/** A command that failed, with what it printed, so a failing test says why. */
export class ToolError extends Error {
  constructor(readonly command: string, readonly stdout: string, readonly stderr: string, cause: string) {
    super(`${command} failed: ${cause}\n--- stderr ---\n${stderr.slice(-4000)}\n--- stdout ---\n${stdout.slice(-2000)}`);
  }
}

function runner(cmd: string, fixedArgs: string[], env: NodeJS.ProcessEnv, cwd: string): Tool {
  return async (args, opts = {}) => {
    const p = run(cmd, [...fixedArgs, ...args], { env, cwd, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 });
    if (opts.input !== undefined) p.child.stdin?.end(opts.input);
    try {
      const { stdout, stderr } = await p;
      return { stdout, stderr };
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      throw new ToolError(`${cmd} ${args.join(' ')}`, err.stdout ?? '', err.stderr ?? '', err.message.split('\n')[0] ?? '');
    }
  };
}

/**
 * A private containers/* environment. Choices that make podman work as root in a container sandbox:
 * - vfs storage: no overlay mounts needed;
 * - cgroupfs and a file events log: there is no systemd or journald;
 * - explicit nofile/nproc ulimits: podman's root defaults (1048576 / 4194304) exceed the hard limits
 *   here, and raising a hard limit needs CAP_SYS_RESOURCE, which the sandbox drops, so runc fails with
 *   "error setting rlimit type 7: operation not permitted".
 * One thing stays shared: skopeo run as root keeps containers/image's blob-info cache in
 * /var/lib/containers/cache, and no flag or variable moves it. It only records where blobs were seen,
 * but it lets skopeo reuse a layer it pushed before in another compression; tests that check the
 * compression of what they push should push content no registry has seen.
 */
export function containerTools(): ContainerTools {
  const dir = tempDir('ctools');
  const paths = {
    root: join(dir, 'storage'), runroot: join(dir, 'run'), tmp: join(dir, 'tmp'), xdg: join(dir, 'xdg'),
    home: join(dir, 'home'), storageConf: join(dir, 'storage.conf'), registriesConf: join(dir, 'registries.conf'),
    registriesD: join(dir, 'registries.d'), containersConf: join(dir, 'containers.conf'), policy: join(dir, 'policy.json'),
    auth: join(dir, 'auth.json'),
  };
  for (const d of [paths.root, paths.runroot, paths.tmp, paths.xdg, paths.home, paths.registriesD]) mkdirSync(d, { recursive: true });
  writeFileSync(paths.storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${paths.root}"\nrunroot = "${paths.runroot}"\n`);
  // No search registries: a short name must never resolve to a public registry.
  writeFileSync(paths.registriesConf, 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n');
  writeFileSync(paths.containersConf, [
    '[containers]', 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]', 'netns = "none"',
    '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', `events_logfile_path = "${join(dir, 'events.log')}"`,
    `tmp_dir = "${paths.tmp}"`, '',
  ].join('\n'));
  writeFileSync(paths.policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  writeFileSync(paths.auth, '{}');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: paths.home,
    TMPDIR: paths.tmp,
    XDG_RUNTIME_DIR: paths.xdg,
    XDG_CONFIG_HOME: join(paths.home, '.config'),
    XDG_DATA_HOME: join(paths.home, '.local', 'share'),
    CONTAINERS_STORAGE_CONF: paths.storageConf,
    CONTAINERS_REGISTRIES_CONF: paths.registriesConf,
    CONTAINERS_CONF: paths.containersConf,
    REGISTRY_AUTH_FILE: paths.auth,
    BUILDAH_ISOLATION: 'chroot',
  };
  const storageArgs = ['--root', paths.root, '--runroot', paths.runroot, '--storage-driver', 'vfs'];
  const podman = runner('podman', [...storageArgs, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--tmpdir', paths.tmp], env, dir);
  const buildah = runner('buildah', storageArgs, env, dir);
  const skopeo = runner('skopeo', ['--policy', paths.policy, '--registries.d', paths.registriesD, '--tmpdir', paths.tmp], env, dir);
  return {
    dir, env, storageArgs, podman, buildah, skopeo,
    storageTransport: `containers-storage:[vfs@${paths.root}+${paths.runroot}]`,
    async cleanup() {
      await podman(['rm', '--all', '--force'], { timeoutMs: 60_000 }).catch(() => undefined);
      await buildah(['rm', '--all'], { timeoutMs: 60_000 }).catch(() => undefined);
      // Images can hold read-only files; rm -rf copes where rmSync may not.
      await run('rm', ['-rf', dir]).catch(() => removeDir(dir));
    },
  };
}

export interface ScratchImageOptions {
  /** Small files, each in its own layer, listed by the image's command. */
  layers?: number;
  /** Written into each file and a label, so two builds differ in content and digest. */
  label?: string;
  /** Adds a layer holding `/big.bin` of this many random bytes (docker builds only). */
  bigFileBytes?: number;
}

/** What a container of a `busyboxContext`-style image prints: one line per file layer. */
export function expectedScratchOutput(opts: ScratchImageOptions = {}): string {
  const label = opts.label ?? 'berth-test';
  return Array.from({ length: opts.layers ?? 2 }, (_, i) => `${label} layer ${i}\n`).join('');
}

/** Builds a multi-layer FROM-scratch busybox image in `dockerd` and tags it `ref`. */
export async function dockerBuildScratch(dockerd: Dockerd, ref: string, opts: ScratchImageOptions = {}): Promise<void> {
  const ctx = busyboxContext(opts.layers ?? 2, opts.label ?? 'berth-test');
  try {
    if (opts.bigFileBytes) {
      writeFileSync(join(ctx, 'big.bin'), randomBytes(opts.bigFileBytes));
      const dockerfile = join(ctx, 'Dockerfile');
      const text = readFileSync(dockerfile, 'utf8');
      const anchor = 'COPY busybox /bin/busybox\n';
      if (!text.includes(anchor)) throw new Error(`busyboxContext's Dockerfile no longer has "${anchor.trim()}"; update dockerBuildScratch`);
      writeFileSync(dockerfile, text.replace(anchor, `${anchor}COPY big.bin /big.bin\n`));
    }
    await dockerd.docker(['build', '-q', '-t', ref, ctx], { timeoutMs: 180_000 });
  } finally {
    removeDir(ctx);
  }
}

/**
 * The same image shape with buildah: `buildah from scratch`, busybox copied in, one `copy` per file
 * layer (buildah commits all of them as one layer; `--layers` only applies to `bud`), committed as `ref`.
 */
export async function buildahScratch(tools: ContainerTools, ref: string, opts: ScratchImageOptions = {}): Promise<void> {
  const label = opts.label ?? 'berth-test';
  const files = tempDir('bctx');
  try {
    copyFileSync(BUSYBOX, join(files, 'busybox'));
    const container = (await tools.buildah(['from', 'scratch'])).stdout.trim();
    try {
      await tools.buildah(['copy', container, join(files, 'busybox'), '/bin/busybox']);
      for (let i = 0; i < (opts.layers ?? 2); i++) {
        const f = join(files, `f${i}.txt`);
        writeFileSync(f, `${label} layer ${i}\n`);
        await tools.buildah(['copy', container, f, `/data/f${i}.txt`]);
      }
      await tools.buildah(['config', '--label', `org.opencontainers.image.title=${label}`,
        '--cmd', '["/bin/busybox", "sh", "-c", "/bin/busybox cat /data/*.txt"]', container]);
      await tools.buildah(['commit', '--format', 'oci', container, ref]);
    } finally {
      await tools.buildah(['rm', container]).catch(() => undefined);
    }
  } finally {
    removeDir(files);
  }
}

/**
 * The digest of the manifest bytes skopeo fetches for `ref`. `inspect --raw` rather than `{{.Digest}}`
 * because plain `inspect` also parses the config, which fails for artifacts (empty config).
 */
export async function skopeoDigest(tools: ContainerTools, ref: string): Promise<string> {
  const out = await tools.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  return digestOf(out.stdout);
}

/** Mocha hooks giving a suite a private dockerd and private container tools; call the result inside tests. */
export function useDockerdAndTools(): () => { dockerd: Dockerd; tools: ContainerTools } {
  let dockerd: Dockerd | undefined;
  let tools: ContainerTools | undefined;
  before(async function () {
    dockerd = await startDockerd();
    tools = containerTools();
  });
  after(async function () {
    await dockerd?.stop();
    await tools?.cleanup();
  });
  return () => {
    if (!dockerd || !tools) throw new Error('the before hook that starts dockerd did not run');
    return { dockerd, tools };
  };
}
