/**
 * Reading the team sections of the registry's YAML (auth, access, tls, limits, proxy,
 * notifications, metrics): each reader names the exact key that is wrong, so the CLI can
 * print one line such as `limits.idleTimeout: "5 minutes" is not a duration (use 30s, 5m, 1h)`.
 */
import { ConfigError } from '../config';
import { parseBytes, parseDurationMs } from './units';

/** A ConfigError, so the CLI prints it as one line naming the key and exits 2. */
export class ConfigValueError extends ConfigError {
  constructor(readonly key: string, problem: string) {
    super(key, problem);
    this.name = 'ConfigValueError';
  }
}

export type ConfigObject = Record<string, unknown>;

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v));

/** An object section, rejecting keys it does not know so typos never pass silently. */
export function readSection(value: unknown, key: string, known: readonly string[]): ConfigObject {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigValueError(key, `expected a mapping, got ${show(value)}`);
  const obj = value as ConfigObject;
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) throw new ConfigValueError(`${key}.${k}`, `unknown key (known: ${known.join(', ')})`);
  }
  return obj;
}

export function optString(obj: ConfigObject, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new ConfigValueError(`${path}.${key}`, `expected a non-empty string, got ${show(v)}`);
  return v;
}

export function optBool(obj: ConfigObject, key: string, path: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigValueError(`${path}.${key}`, `expected true or false, got ${show(v)}`);
  return v;
}

export function optPositiveInt(obj: ConfigObject, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigValueError(`${path}.${key}`, `expected a whole number of at least 1, got ${show(v)}`);
  return v;
}

export function optDurationMs(obj: ConfigObject, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const ms = parseDurationMs(v);
  if (ms === undefined) throw new ConfigValueError(`${path}.${key}`, `${show(v)} is not a duration (use 500ms, 30s, 5m, 1h)`);
  return ms;
}

export function optBytes(obj: ConfigObject, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const bytes = parseBytes(v);
  if (bytes === undefined) throw new ConfigValueError(`${path}.${key}`, `${show(v)} is not a size (use 4MiB, 512KiB, or a number of bytes)`);
  return bytes;
}

export function optStringList(obj: ConfigObject, key: string, path: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string' && x !== '')) {
    throw new ConfigValueError(`${path}.${key}`, `expected a list of non-empty strings, got ${show(v)}`);
  }
  return v;
}

export function optUrl(obj: ConfigObject, key: string, path: string): URL | undefined {
  const s = optString(obj, key, path);
  if (s === undefined) return undefined;
  try {
    const u = new URL(s);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return u;
  } catch {
    throw new ConfigValueError(`${path}.${key}`, `${show(s)} is not an http(s) URL`);
  }
}
