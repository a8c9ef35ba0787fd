/**
 * The registry's configuration: CLI flags over a YAML file over defaults. Every key is checked;
 * an unknown key or a bad value is a `ConfigError` naming it (the CLI prints it on one line, exit 2).
 *
 * Sections beyond the core (`auth`, `access`, `http`, `proxy`, `notifications`, `limits`…) are
 * validated by whoever registers them with `registerConfigSection`, from their own module.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { readS3Config, type S3Config } from './storage/s3Config';

export class ConfigError extends Error {
  constructor(readonly path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
  }
}

export interface ConfigSection<T = unknown> {
  /** The top-level key, e.g. `auth`. */
  name: string;
  /** Returns the checked value or throws `ConfigError` (use the helpers below, which name the path). */
  validate(value: unknown, path: string): T;
}

const sections = new Map<string, ConfigSection>();

export function registerConfigSection<T>(section: ConfigSection<T>): void {
  if (CORE_KEYS.includes(section.name)) throw new Error(`config section "${section.name}" is a core section`);
  sections.set(section.name, section as ConfigSection);
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface ListenAddress {
  host: string;
  port: number;
}

export interface CoreConfig {
  listen: ListenAddress;
  root: string;
  log: { level: LogLevel; requests: boolean };
  storage: {
    /** Where the data lives: the `root` folder, or an S3 bucket (`storage.s3`). */
    backend: { kind: 'filesystem'; fsync: boolean } | { kind: 's3'; s3: S3Config };
    deleteEnabled: boolean;
    /**
     * Maintenance (a gc window on a bucket several registries serve): pushes and deletes are refused
     * with 405, pulls served, and nothing is purged.
     */
    readOnly: boolean;
    maxManifestBytes: number;
    uploadPurging: { enabled: boolean; maxAgeSeconds: number; intervalSeconds: number };
  };
}

export interface LoadedConfig {
  core: CoreConfig;
  /** Validated values of registered sections present in the file. */
  sections: Map<string, unknown>;
}

export interface ConfigFlags {
  listen?: string;
  root?: string;
}

const CORE_KEYS = ['listen', 'root', 'log', 'storage'];

export const DEFAULT_MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export function defaultRoot(): string {
  return join(homedir(), '.berth', 'registry');
}

// ---- helpers for section validators ----

export function expectObject(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(path, `expected a mapping, got ${describe(value)}`);
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ConfigError(join2(path, key), `unknown key (allowed here: ${allowed.join(', ')})`);
  }
  return obj;
}

export function expectBoolean(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(path, `expected true or false, got ${describe(value)}`);
  return value;
}

export function expectInteger(value: unknown, path: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(path, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

export function expectString(value: unknown, path: string, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new ConfigError(path, `expected a non-empty string, got ${describe(value)}`);
  return value;
}

export function expectOneOf<T extends string>(value: unknown, path: string, options: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !options.includes(value as T)) throw new ConfigError(path, `expected one of ${options.join(', ')}, got ${describe(value)}`);
  return value as T;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value) ?? String(value);
}

function join2(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListen(value: string, path = 'listen'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(path, `expected HOST:PORT (e.g. 127.0.0.1:5000; port 0 picks a free one), got ${JSON.stringify(value)}`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  return { host, port };
}

// ---- loading ----

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('', `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigError('', `config file ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError('', `config file ${file} must be a mapping of keys to values`);
  return doc as Record<string, unknown>;
}

/** Builds the configuration from a parsed file (or none) and the CLI flags, which win. */
export function buildConfig(file: Record<string, unknown> | undefined, flags: ConfigFlags = {}, baseDir = process.cwd()): LoadedConfig {
  const doc = expectObject(file ?? {}, '', [...CORE_KEYS, ...sections.keys()]);
  const listenText = flags.listen ?? (doc['listen'] === undefined ? '127.0.0.1:5000' : expectString(doc['listen'], 'listen'));
  const listen = parseListen(listenText, flags.listen !== undefined ? '--listen' : 'listen');
  const rootText = flags.root ?? (doc['root'] === undefined ? defaultRoot() : expectString(doc['root'], 'root'));
  const log = expectObject(doc['log'], 'log', ['level', 'requests']);
  const storage = expectObject(doc['storage'], 'storage', ['delete', 'readOnly', 'maxManifestBytes', 'uploadPurging', 'filesystem', 's3']);
  const filesystem = expectObject(storage['filesystem'], 'storage.filesystem', ['fsync']);
  if (storage['s3'] !== undefined && storage['filesystem'] !== undefined) {
    throw new ConfigError('storage.filesystem', 'applies to a registry storing in its root folder, and storage.s3 is set: remove one of them (S3 makes each write durable itself)');
  }
  const del = expectObject(storage['delete'], 'storage.delete', ['enabled']);
  const readOnly = expectObject(storage['readOnly'], 'storage.readOnly', ['enabled']);
  const purging = expectObject(storage['uploadPurging'], 'storage.uploadPurging', ['enabled', 'maxAgeSeconds', 'intervalSeconds']);
  const core: CoreConfig = {
    listen,
    root: resolve(baseDir, rootText),
    log: {
      level: expectOneOf(log['level'], 'log.level', LOG_LEVELS, 'info'),
      requests: expectBoolean(log['requests'], 'log.requests', true),
    },
    storage: {
      backend: storage['s3'] === undefined
        // fsync: false trades power-cut safety of acknowledged blobs for push speed (README: durability).
        ? { kind: 'filesystem', fsync: expectBoolean(filesystem['fsync'], 'storage.filesystem.fsync', true) }
        : { kind: 's3', s3: readS3Config(storage['s3'], 'storage.s3') },
      deleteEnabled: expectBoolean(del['enabled'], 'storage.delete.enabled', true),
      readOnly: expectBoolean(readOnly['enabled'], 'storage.readOnly.enabled', false),
      // The spec asks registries to accept at least 4 MB.
      maxManifestBytes: expectInteger(storage['maxManifestBytes'], 'storage.maxManifestBytes', DEFAULT_MAX_MANIFEST_BYTES, 1024),
      uploadPurging: {
        enabled: expectBoolean(purging['enabled'], 'storage.uploadPurging.enabled', true),
        maxAgeSeconds: expectInteger(purging['maxAgeSeconds'], 'storage.uploadPurging.maxAgeSeconds', 7 * 24 * 3600, 1),
        intervalSeconds: expectInteger(purging['intervalSeconds'], 'storage.uploadPurging.intervalSeconds', 24 * 3600, 1),
      },
    },
  };
  const validated = new Map<string, unknown>();
  for (const [name, section] of sections) {
    if (doc[name] !== undefined) validated.set(name, section.validate(doc[name], name));
  }
  return { core, sections: validated };
}

export function loadConfig(configFile: string | undefined, flags: ConfigFlags = {}): LoadedConfig {
  const file = configFile ? readConfigFile(configFile) : undefined;
  return buildConfig(file, flags);
}
