/**
 * Extension points of the registry server: access control, events, metrics, request logging,
 * extra routes and a storage wrapper. The defaults are trivial (allow everything, record nothing);
 * feature modules (auth, notifications, metrics, proxy, tls) replace them at start-up through
 * `registerServerPlugin`, reading their own config sections.
 */
import type { IncomingMessage, Server, ServerResponse, RequestListener } from 'node:http';
import type { Storage } from './storage';

export type Action = 'pull' | 'push' | 'delete' | '*';

/** One access a request needs, shaped like a token scope (`repository:name:pull,push`). */
export interface Access {
  type: 'repository' | 'registry';
  /** Repository name, or `catalog` for `registry:catalog:*`. */
  name: string;
  actions: Action[];
}

export type AccessDecision =
  | { allowed: true; user?: string }
  /** 401 with a `WWW-Authenticate` challenge (e.g. `Bearer realm="…",service="…",scope="…"`). */
  | { allowed: false; status: 401; challenge: string; message?: string }
  /** 403 DENIED: authenticated, but not for this. */
  | { allowed: false; status: 403; message?: string }
  /** 429 TOOMANYREQUESTS with `Retry-After` (too many failed logins from this client). */
  | { allowed: false; status: 429; retryAfterSeconds: number; message?: string };

export interface AccessController {
  /**
   * Decides whether `req` may have `access`. An empty list means "any authenticated caller"
   * (the `/v2/` version check).
   */
  authorize(req: IncomingMessage, access: Access[]): Promise<AccessDecision> | AccessDecision;
  /** `_catalog` lists only what this returns (the repositories the caller may pull); all when absent. */
  visibleRepositories?(user: string | undefined, repositories: string[]): string[];
}

export interface EventTarget {
  mediaType: string;
  digest: string;
  size: number;
  repository: string;
  url: string;
  tag?: string;
}

export interface RequestInfo {
  id: string;
  addr: string;
  host: string;
  method: string;
  useragent: string;
}

/** Shaped like distribution's notification events, so a sink can forward them as they are. */
export interface RegistryEvent {
  id: string;
  timestamp: string;
  action: 'push' | 'pull' | 'mount' | 'delete';
  repository: string;
  target: EventTarget;
  request: RequestInfo;
  actor: { name?: string };
  /** For mounts: the repository the blob came from, when the client named one. */
  fromRepository?: string;
}

export interface EventSink {
  onEvent(event: RegistryEvent): void;
}

/** What the server knows about a request once it has been answered. */
export interface RequestRecord {
  id: string;
  /** A route name without the variable parts, e.g. `manifests.get`, `blobs.upload.patch`, `extra:/metrics`. */
  route: string;
  method: string;
  /** The path without the query (queries may carry state a log should not keep). */
  path: string;
  repository?: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  user?: string;
  remoteAddr: string;
  userAgent: string;
  /** The spec error code of a failed request. */
  errorCode?: string;
}

export interface MetricsHook {
  observe(record: RequestRecord): void;
}

export interface RequestLogHook {
  log(record: RequestRecord): void;
}

/** A route outside the registry API, e.g. `/auth/token`, `/healthz`, `/metrics`. */
export interface ExtraRoute {
  /** Omit to match every method. */
  method?: string;
  /** An exact path, or a pattern tested against the path without the query. */
  path: string | RegExp;
  /** The name the route is recorded under in metrics and logs. */
  name?: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
}

export interface ServerHooks {
  access: AccessController;
  events: EventSink[];
  metrics: MetricsHook[];
  requestLog: RequestLogHook[];
  extraRoutes: ExtraRoute[];
  /** Wraps the storage (a pull-through proxy, a read-only view). Applied in registration order. */
  storageWrappers: ((storage: Storage) => Storage)[];
  /** Replaces the plain HTTP server (TLS). `scheme` is printed in the `listening on` line. */
  serverFactory?: { scheme: 'http' | 'https'; create(listener: RequestListener): Server };
  /**
   * Set when the registry refuses every write (pushes, mounts, deletes) with 405 UNSUPPORTED; the
   * text says why and how to change it (a pull-through cache).
   */
  readOnlyReason?: string;
  /** Called once the server is shutting down, to stop timers and flush queues. */
  onClose: (() => Promise<void> | void)[];
}

export const allowAll: AccessController = { authorize: () => ({ allowed: true }) };

export function defaultHooks(): ServerHooks {
  return { access: allowAll, events: [], metrics: [], requestLog: [], extraRoutes: [], storageWrappers: [], onClose: [] };
}

/** What a plugin is given at start-up: the validated config sections and the hooks to fill. */
export interface PluginContext {
  /** The validated value of each registered config section that the file set. */
  sections: ReadonlyMap<string, unknown>;
  hooks: ServerHooks;
  root: string;
  /** Writes one line to the server's log (stderr). */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export type ServerPlugin = (ctx: PluginContext) => Promise<void> | void;

const plugins: ServerPlugin[] = [];

/** Feature modules call this on import (see features.ts); `serve` runs every plugin before listening. */
export function registerServerPlugin(plugin: ServerPlugin): void {
  plugins.push(plugin);
}

export function registeredPlugins(): readonly ServerPlugin[] {
  return plugins;
}
