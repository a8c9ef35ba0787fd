// The registry CLI entry point (bundled to dist/registry.js): `berth-registry serve | gc`.
// Every storage call is an fs operation on libuv's pool; its default 4 threads queue concurrent pushes.
// Set before any fs call creates the pool.
process.env['UV_THREADPOOL_SIZE'] ??= '16';
import { composeServer, createDriver, listenSafety, lockStorage, TEAM_CONFIG_HELP } from './compose';
import { ConfigError, loadConfig, type LoadedConfig } from './config';
import { runGc } from './gc';
import { LockedError, type RootLock } from './lock';
import { createLogger } from './log';
import { startServer } from './server';
import { DEFAULT_LIMITS, type Limits } from './limits/limits';
import { runUserCommand, processUserIo, USER_USAGE, UserCommandError } from './auth/userCli';
import { runCertCommand, CERT_USAGE, CertCommandError } from './tls/certCli';
import type { StorageDriver } from './storage/driver';

const USAGE = `Usage:
  berth-registry serve [--listen HOST:PORT] [--root DIR] [--config FILE.yml] [--insecure]
      Serves an OCI registry (distribution spec v1.1.1) from DIR, in distribution's storage layout.
      --listen   address to bind (default 127.0.0.1:5000; port 0 picks a free port)
      --root     storage root (default ~/.berth/registry)
      --config   YAML file with listen, root, log, storage and feature sections
      --insecure listen on a non-loopback address without auth and TLS (warns on every start)
      Prints "listening on http://HOST:PORT" when ready; logs go to stderr. SIGTERM/SIGINT stop it.

  berth-registry gc [--root DIR] [--config FILE.yml] [--dry-run] [--delete-untagged] [--all-uploads]
      Removes blobs no manifest references (mark and sweep), and upload sessions idle for longer than
      limits.uploadIdleTimeout (1h). Refuses while a server uses the root.
      --dry-run          print what would be removed, remove nothing
      --delete-untagged  also remove manifests no tag reaches (directly or through an index)
      --all-uploads      also remove recent upload sessions: no client can resume one while no server
                         runs, and docker or podman never resume one after a cancelled or failed push

${USER_USAGE}${CERT_USAGE}
  berth-registry --help

${TEAM_CONFIG_HELP}`;

class UsageError extends Error {}

interface ParsedArgs {
  command: string;
  values: Map<string, string>;
  switches: Set<string>;
}

function parseArgs(argv: string[], valueFlags: readonly string[], switchFlags: readonly string[]): ParsedArgs {
  const [command = '', ...rest] = argv;
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (valueFlags.includes(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : rest[++i];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
      values.set(flag, value);
    } else if (switchFlags.includes(flag) && eq < 0) {
      switches.add(flag);
    } else if (flag === '--help' || flag === '-h') {
      switches.add('--help');
    } else {
      throw new UsageError(`unknown argument "${arg}" for ${command}`);
    }
  }
  return { command, values, switches };
}

function fail(message: string, code: number): never {
  process.stderr.write(`berth-registry: ${message}\n`);
  process.exit(code);
}

function configFrom(args: ParsedArgs): LoadedConfig {
  return loadConfig(args.values.get('--config'), { listen: args.values.get('--listen'), root: args.values.get('--root') });
}

async function serve(args: ParsedArgs): Promise<void> {
  const config = configFrom(args);
  const { core } = config;
  const log = createLogger(core.log.level);
  const driver = await createDriver(config);
  const lock = lockOrFail(driver, 'server');
  const { linkStorage, hooks, handler } = await composeServer(config, driver, log);
  const safety = listenSafety(core.listen.host, hooks, args.switches.has('--insecure'));
  if (safety.error) throw new ConfigError('--listen', safety.error);
  if (safety.warning) {
    process.stderr.write(`berth-registry: ${safety.warning}\n`);
    log('warn', safety.warning);
  }
  const running = await startServer(core.listen, handler, hooks);

  let purgeTimer: NodeJS.Timeout | undefined;
  if (core.storage.uploadPurging.enabled && !core.storage.readOnly) {
    const { maxAgeSeconds, intervalSeconds } = core.storage.uploadPurging;
    const purge = (): void => {
      linkStorage.purgeUploads(maxAgeSeconds * 1000)
        .then((n) => n > 0 && log('info', 'purged abandoned uploads', { count: n, maxAgeSeconds }))
        .catch((e: unknown) => log('warn', 'upload purge failed', { error: String(e) }));
    };
    purge();
    purgeTimer = setInterval(purge, intervalSeconds * 1000);
    purgeTimer.unref();
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('info', 'shutting down', { signal });
    if (purgeTimer) clearInterval(purgeTimer);
    void (async () => {
      try {
        await running.close();
        for (const hook of hooks.onClose) await hook();
      } catch (e) {
        log('error', 'shutdown failed', { error: String(e) });
      } finally {
        lock?.release();
        process.exit(0);
      }
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('exit', () => lock?.release());
  log('info', 'registry started', { url: running.url, storage: driver.name, location: driver.description, deleteEnabled: core.storage.deleteEnabled, readOnly: core.storage.readOnly });
  process.stdout.write(`listening on ${running.url}\n`);
}

/** The root's lock for a filesystem driver (exit 1 when a live process holds it); none for a shared one. */
function lockOrFail(driver: StorageDriver, purpose: string): RootLock | undefined {
  try {
    return lockStorage(driver, purpose);
  } catch (e) {
    if (e instanceof LockedError) fail(e.message, 1);
    if ((e as NodeJS.ErrnoException).code === 'EROFS') {
      fail(`the storage root ${driver.description} is on a read-only filesystem (EROFS), and ${purpose === 'gc' ? 'gc' : 'the registry'} writes its lock and uploads there. `
        + 'Make the filesystem writable (the kernel turns one read-only after disk errors: check the disk first), then start again', 1);
    }
    throw e;
  }
}

async function gc(args: ParsedArgs): Promise<void> {
  const config = configFrom(args);
  const driver = await createDriver(config);
  const lock = lockOrFail(driver, 'gc');
  if (!lock) {
    process.stderr.write(`berth-registry: gc on ${driver.name} storage takes no lock: every registry on ${driver.description} must be stopped or read-only until it ends\n`);
  }
  try {
    await runGc(driver, {
      dryRun: args.switches.has('--dry-run'),
      deleteUntagged: args.switches.has('--delete-untagged'),
      allUploads: args.switches.has('--all-uploads'),
      uploadIdleMs: ((config.sections.get('limits') as Limits | undefined) ?? DEFAULT_LIMITS).uploadIdleTimeoutMs,
      print: (line) => process.stdout.write(line + '\n'),
    });
  } finally {
    lock?.release();
    await driver.close?.();
  }
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    if (command === undefined) process.exitCode = 2;
    return;
  }
  if (command === 'serve') {
    const args = parseArgs(argv, ['--listen', '--root', '--config'], ['--insecure']);
    if (args.switches.has('--help')) return void process.stdout.write(USAGE);
    return serve(args);
  }
  if (command === 'user') return runUserCommand(argv.slice(1), processUserIo());
  if (command === 'cert') return runCertCommand(argv.slice(1), (line) => process.stdout.write(`${line}\n`));
  if (command === 'gc') {
    const args = parseArgs(argv, ['--root', '--config'], ['--dry-run', '--delete-untagged', '--all-uploads']);
    if (args.switches.has('--help')) return void process.stdout.write(USAGE);
    return gc(args);
  }
  throw new UsageError(`unknown command "${command}"; use serve, gc, user or cert (see --help)`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) fail(`${e.message}\n${USAGE}`, 2);
  if (e instanceof ConfigError) fail(`config: ${e.message}`, 2);
  if (e instanceof UserCommandError || e instanceof CertCommandError) fail(e.message, 2);
  fail(e instanceof Error ? e.message : String(e), 1);
});
