/**
 * The composition root of the registry: from a loaded config to a handler ready to listen. Picks
 * the storage driver (the root folder, or `storage.s3`), puts the link rules over it, registers the
 * team config sections (`auth`, `access`, `tls`, `limits`, `notifications`, `proxy`, `metrics`) and
 * fills the hooks in a fixed order (metrics first, so the others can report to it), then runs any
 * plugin registered with `registerServerPlugin`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { registerConfigSection, type LoadedConfig } from './config';
import { RegistryHandler } from './handler';
import { acquireRootLock, type RootLock } from './lock';
import { requestLogger, type LogFn } from './log';
import { FsDriver } from './storage/fsDriver';
import { LinkStorage } from './storage/linkStorage';
import { ManifestParserPool } from './manifestParser';
import type { StorageDriver } from './storage/driver';
import type { Storage } from './storage/types';
import { allowAll, defaultHooks, registeredPlugins, type AccessController, type AccessDecision, type PluginContext, type ServerHooks } from './hooks';
import { AccessPolicy, METRICS_ACCESS } from './auth/access';
import { readAuthConfig, TOKEN_PATH, type AuthConfig } from './auth/config';
import { RegistryAuth, type AuthRequestInfo } from './auth/controller';
import { PasswordCheckPool } from './auth/passwordChecks';
import { checkStorageWritable, healthReport } from './metrics/health';
import { PROMETHEUS_CONTENT_TYPE } from './metrics/prometheus';
import { RegistryMetrics } from './metrics/registryMetrics';
import { Notifier, readNotificationsConfig, redactUrl, type NotificationsConfig } from './notifications/notifications';
import { proxyStorage, readProxyConfig, type ProxyConfig } from './proxy/proxyStorage';
import { UpstreamClient } from './proxy/upstream';
import { createRegistryServer, expiryWarning, readTlsConfig, type TlsConfig } from './tls/serverFactory';
import { ConfigValueError, optBool, readSection } from './limits/configValues';
import { DEFAULT_LIMITS, readLimits, Slots, type Limits } from './limits/limits';
import { checkListenSafety } from './limits/listen';
import { limitUploads } from './limits/uploadLimits';
import { UploadSessions } from './limits/uploadSessions';

registerConfigSection({ name: 'auth', validate: (v, p) => readAuthConfig(v, p) });
registerConfigSection({ name: 'access', validate: (v, p) => AccessPolicy.fromConfig(v, p) });
registerConfigSection({ name: 'tls', validate: (v, p) => readTlsConfig(v, p) });
registerConfigSection({ name: 'limits', validate: (v, p) => readLimits(v, p) });
registerConfigSection({ name: 'notifications', validate: (v, p) => readNotificationsConfig(v, p) });
registerConfigSection({ name: 'proxy', validate: (v, p) => readProxyConfig(v, p) });
registerConfigSection({ name: 'metrics', validate: (v, p) => ({ enabled: optBool(readSection(v, p, ['enabled']), 'enabled', p) ?? true }) });

/** The team sections of the YAML config, for `berth-registry --help`. */
export const TEAM_CONFIG_HELP = `Team sections of the YAML config (all optional):
  auth:          htpasswd: {path: FILE, realm: NAME}        Basic logins (bcrypt, as htpasswd -B writes)
                 token: {expiration: 5m, service: NAME}     docker's bearer tokens from /auth/token
  access:        groups: {team-a: [alice, bob]}
                 rules: [{repositories: ["team-a/*"], groups: [team-a], users: [carol], actions: [pull, push, delete]},
                         {repositories: ["public/**"], anonymous: true, actions: [pull]}]
                 metrics: {users: [prometheus], groups: [ops]}  who may read /metrics when auth is on
                        (without an access section: every signed-in user; without auth: open)
  tls:           {certificate: FILE.crt, key: FILE.key}
  limits:        {maxBlobSize: 32GiB, maxRequestBodySize: 1MiB, maxConcurrentUploads: 64, headersTimeout: 15s,
                  idleTimeout: 60s, keepAliveTimeout: 5s, maxFailedLoginsPerMinute: 10, maxConcurrentPasswordChecks: CPUs-1,
                  minUploadRate: 1KiB, uploadRateWindow: 30s,     a body slower than 1 KiB/s over 30 s loses its slot (408); 0 = off
                  maxOpenUploads: 10000, maxOpenUploadsPerUser: 1000, uploadIdleTimeout: 1h}
                                                             open upload sessions (429 beyond); idle ones are removed, also by gc
                 failed logins count per user name and address; a name or address past the limit is checked
                 one login at a time; maxConcurrentPasswordChecks caps bcrypt work over all clients
  proxy:         {remoteurl: URL, username: U, password: P, ttl: 168h, allowWrites: false}
                 pull-through cache; read-only (405 on pushes and deletes) unless allowWrites
  notifications: endpoints: [{name, url, headers: {H: [V]}, timeout: 1s, threshold: 10, backoff: 1s, ignore: {actions: [pull]}}]
                 a url with user:password@ is sent as Authorization: Basic; logs show it redacted
  metrics:       {enabled: true}   Prometheus text on /metrics; /healthz is always served

Storage on S3 (storage.s3, instead of the root folder; README: "When a team outgrows one machine"):
  storage:       s3: {endpoint: URL, region: us-east-1, bucket: NAME, rootDirectory: berth, forcePathStyle: true,
                      redirect: false, chunkSize: 10485760, accessKey: ..., secretKey: ...,
                      connectTimeout: 10s, idleTimeout: 60s}
                 a connection to the store not set up within connectTimeout, or with no byte moving for
                 idleTimeout, fails its request, which is retried; a store that stays stalled answers 503
`;

export const HEALTH_PATH = '/healthz';
export const METRICS_PATH = '/metrics';

function schemeOf(req: IncomingMessage): string {
  return (req.socket as TLSSocket).encrypted ? 'https' : 'http';
}

function requestInfo(req: IncomingMessage): AuthRequestInfo {
  return { headers: req.headers, remoteAddress: req.socket.remoteAddress ?? '', scheme: schemeOf(req) };
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}, head = false): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries({ 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), ...headers })) res.setHeader(k, v);
  res.end(head ? undefined : body);
}

function sendJsonError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendText(res, status, 'application/json', JSON.stringify({ errors: [{ code, message }] }), headers);
}

/** Reads a small body (the token endpoint's form), refusing more than `maxBytes`. */
async function readSmallBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The AccessController the handler calls, adapting RegistryAuth's decisions to the hooks' shape. */
export function accessController(auth: RegistryAuth): AccessController {
  return {
    async authorize(req, access): Promise<AccessDecision> {
      const d = await auth.authorize(requestInfo(req), access);
      if (d.allowed) return d;
      if (d.status === 401) return { allowed: false, status: 401, challenge: d.headers['WWW-Authenticate'] ?? '', message: d.message };
      if (d.status === 429) return { allowed: false, status: 429, retryAfterSeconds: Number(d.headers['Retry-After'] ?? 60), message: d.message };
      return { allowed: false, status: 403, message: d.message };
    },
    visibleRepositories: (user, repositories) => repositories.filter((r) => auth.canPull(user, r)),
  };
}

/** How a failed login's name that is no known user is logged: enough to tell repeats apart, nothing to read. */
export function unknownUserLabel(name: string): string {
  return `unknown user (sha256 ${createHash('sha256').update(name).digest('hex').slice(0, 8)})`;
}

/** Safe by default: refuses a non-loopback address without auth and TLS unless `insecure`; returns a warning to print. */
export function listenSafety(host: string, hooks: ServerHooks, insecure: boolean): { error?: string; warning?: string } {
  const r = checkListenSafety({ host, authEnabled: hooks.access !== allowAll, tlsEnabled: hooks.serverFactory?.scheme === 'https', insecure });
  return r.ok ? (r.warning ? { warning: r.warning } : {}) : { error: r.error };
}

/** Fills `ctx.hooks` with the team features the config's sections ask for. */
async function wireTeamFeatures(ctx: PluginContext, driver: StorageDriver, readOnly: boolean): Promise<void> {
  const { hooks, sections, log } = ctx;
  const limits = (sections.get('limits') as Limits | undefined) ?? DEFAULT_LIMITS;
  const metricsEnabled = (sections.get('metrics') as { enabled: boolean } | undefined)?.enabled ?? true;

  const metrics = new RegistryMetrics();
  hooks.metrics.push(metrics);
  if (driver instanceof FsDriver) {
    metrics.registry.gauge('berth_storage_fsyncs_total', 'Blob files fsynced before they were acknowledged, since start (none with storage.filesystem.fsync: false).', () => [{ value: driver.fsyncs }]);
    metrics.registry.gauge('berth_storage_writeback_syncs_total', 'Background fdatasyncs of upload files while their bytes arrived, so that the fsync before acknowledging finds little left to write (none with storage.filesystem.fsync: false).', () => [{ value: driver.writebackSyncs }]);
    if (!driver.fsync) log('warn', 'storage.filesystem.fsync is false: a kill -9 of the registry still loses nothing it acknowledged, but an OS crash or power cut can leave blobs acknowledged in the last 30 s or so (the kernel writeback delay) short or empty');
  }

  const authConfig = sections.get('auth') as AuthConfig | undefined;
  const policy = sections.get('access') as AccessPolicy | undefined;
  if (policy && !authConfig) throw new ConfigValueError('access', 'access rules need authentication: add auth.htpasswd.path');
  if (authConfig) {
    let auth: RegistryAuth;
    const passwordChecks = new PasswordCheckPool(limits.maxConcurrentPasswordChecks);
    hooks.onClose.push(() => passwordChecks.close());
    try {
      auth = new RegistryAuth({
        config: authConfig, policy: policy ?? AccessPolicy.allowAllUsers(), maxFailedLoginsPerMinute: limits.maxFailedLoginsPerMinute,
        maxConcurrentPasswordChecks: limits.maxConcurrentPasswordChecks, comparePassword: passwordChecks.compare,
        onFailedLogin: (user, remoteAddr) => {
          metrics.failedLogins.inc();
          // A password typed into the name field must not reach the log: unknown names are logged as a hash prefix.
          log('warn', 'failed login', { user: auth.htpasswd.has(user) ? user : unknownUserLabel(user), remoteAddr });
        },
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ConfigValueError('auth.htpasswd.path', `${authConfig.htpasswdPath} does not exist; create it with \`berth-registry user add NAME --htpasswd ${authConfig.htpasswdPath}\``);
      throw new ConfigValueError('auth', (e as Error).message);
    }
    hooks.access = accessController(auth);
    metrics.registry.gauge('berth_password_checks_in_flight', 'bcrypt password checks running right now (limits.maxConcurrentPasswordChecks caps them).', () => [{ value: auth.logins.checksInFlight }]);
    hooks.extraRoutes.push({
      path: TOKEN_PATH, name: 'token',
      async handle(req, res) {
        res.setHeader('Cache-Control', 'no-store');
        if (req.method !== 'GET' && req.method !== 'POST') {
          res.setHeader('Allow', 'GET, POST');
          return sendJsonError(res, 405, 'UNSUPPORTED', `${req.method ?? ''} is not supported on ${TOKEN_PATH}; use GET or POST`);
        }
        const url = new URL(req.url ?? '/', 'http://registry');
        const body = req.method === 'POST' ? await readSmallBody(req, limits.maxRequestBodyBytes) : undefined;
        if (req.method === 'POST' && body === undefined) return sendJsonError(res, 413, 'SIZE_INVALID', `the form is larger than ${limits.maxRequestBodyBytes} bytes (limits.maxRequestBodySize)`);
        const r = await auth.tokenEndpoint({ ...requestInfo(req), method: req.method }, url.searchParams, body);
        sendText(res, r.status, r.headers['Content-Type'] ?? 'application/json', r.body, r.headers);
      },
    });
    log('info', 'authentication on', { mode: auth.mode, users: auth.htpasswd.list().length, htpasswd: authConfig.htpasswdPath });
  }

  const tls = sections.get('tls') as TlsConfig | undefined;
  hooks.serverFactory = { scheme: tls ? 'https' : 'http', create: (listener) => createRegistryServer(listener, limits, tls) };
  const expiring = tls && expiryWarning(tls, new Date());
  if (expiring) log('warn', expiring);

  const sessions = new UploadSessions(limits);
  hooks.storageWrappers.push((s) => sessions.wrap(s));
  const idleCheckMs = Math.max(1000, Math.min(60_000, Math.floor(limits.uploadIdleTimeoutMs / 2)));
  const idleTimer = setInterval(() => {
    // Read-only for maintenance: nothing is removed, not even an idle session.
    if (readOnly) return;
    sessions.purgeIdle()
      .then((count) => count > 0 && log('info', 'removed idle upload sessions', { count, idleTimeoutMs: limits.uploadIdleTimeoutMs }))
      .catch((e: unknown) => log('warn', 'removing idle upload sessions failed', { error: String(e) }));
  }, idleCheckMs);
  idleTimer.unref();
  hooks.onClose.push(() => clearInterval(idleTimer));
  metrics.registry.gauge('berth_upload_sessions_open', 'Upload sessions started and not yet finished, cancelled or removed.', () => [{ value: sessions.count }]);

  const uploadSlots = new Slots(limits.maxConcurrentUploads);
  hooks.storageWrappers.push((s) => limitUploads(s, {
    maxBlobBytes: limits.maxBlobBytes, slots: uploadSlots, minBytesPerSecond: limits.minUploadBytesPerSecond, rateWindowMs: limits.uploadRateWindowMs,
  }));
  metrics.registry.gauge('berth_uploads_in_flight', 'Blob uploads streaming into the registry right now.', () => [{ value: uploadSlots.inUse }]);

  const proxy = sections.get('proxy') as ProxyConfig | undefined;
  if (proxy) {
    const upstream = new UpstreamClient({ remoteUrl: proxy.remoteUrl, ...(proxy.username !== undefined ? { username: proxy.username, password: proxy.password } : {}) });
    let lastWarningMs = 0;
    hooks.storageWrappers.push((s) => proxyStorage(s, {
      upstream, ttlMs: proxy.ttlMs,
      onCache: (kind, result) => metrics.cache.inc({ kind, result }),
      onUpstreamError: (message) => {
        metrics.upstreamErrors.inc();
        // One warning a minute is enough to notice an upstream that is down.
        if (Date.now() - lastWarningMs > 60_000) {
          lastWarningMs = Date.now();
          log('warn', 'pull-through upstream failed; serving from the cache', { upstream: upstream.remote, error: message });
        }
      },
    }));
    if (!proxy.allowWrites) {
      hooks.readOnlyReason = `this registry is a pull-through cache of ${upstream.remote} and is read-only: a push here would replace the upstream's content for everyone (set proxy.allowWrites: true to allow pushes and deletes)`;
    }
    log('info', 'pull-through cache on', { upstream: upstream.remote, ttlMs: proxy.ttlMs, authenticated: proxy.username !== undefined, allowWrites: proxy.allowWrites });
  }

  const notifications = sections.get('notifications') as NotificationsConfig | undefined;
  if (notifications && notifications.endpoints.length > 0) {
    const notifier = new Notifier(notifications, (e) => `${hostname()}:${e.request.host.split(':').pop() ?? ''}`, undefined, (level, message) => log(level, message));
    hooks.events.push(notifier);
    hooks.onClose.push(() => notifier.close());
    const stat = (pick: (q: Notifier['queues'][number]) => number) => () => notifier.queues.map((q) => ({ labels: { endpoint: q.config.name }, value: pick(q) }));
    metrics.registry.gauge('berth_notifications_pending', 'Events waiting to be delivered, by endpoint.', stat((q) => q.stats.pending));
    metrics.registry.gauge('berth_notifications_delivered_total', 'Events delivered, by endpoint.', stat((q) => q.stats.successes));
    metrics.registry.gauge('berth_notifications_failed_attempts_total', 'Deliveries answered with an error status or not answered, by endpoint.', stat((q) => q.stats.failures + q.stats.errors));
    metrics.registry.gauge('berth_notifications_dropped_total', 'Events dropped because the queue was full, by endpoint.', stat((q) => q.stats.dropped));
    for (const e of notifications.endpoints) log('info', 'notifications endpoint', { name: e.name, url: redactUrl(e.url), basicAuth: e.headers['Authorization'] !== undefined, timeoutMs: e.timeoutMs, threshold: e.threshold, backoffMs: e.backoffMs });
  }

  hooks.extraRoutes.push({
    path: HEALTH_PATH, name: 'healthz',
    async handle(req, res) {
      const report = await healthReport({ storage: () => checkStorageWritable(driver) });
      sendText(res, report.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(report), { 'Cache-Control': 'no-store' }, req.method === 'HEAD');
    },
  });
  if (metricsEnabled) {
    hooks.extraRoutes.push({
      path: METRICS_PATH, name: 'metrics',
      async handle(req, res) {
        // With auth on, the counts (repository activity, failed logins) are for those granted access.metrics.
        const d = await hooks.access.authorize(req, [{ type: 'registry', name: METRICS_ACCESS.name, actions: ['*'] }]);
        if (!d.allowed) {
          res.setHeader('Cache-Control', 'no-store');
          if (d.status === 401) return sendJsonError(res, 401, 'UNAUTHORIZED', d.message ?? 'authentication required', { 'WWW-Authenticate': d.challenge });
          if (d.status === 429) return sendJsonError(res, 429, 'TOOMANYREQUESTS', d.message ?? 'too many failed logins', { 'Retry-After': String(d.retryAfterSeconds) });
          return sendJsonError(res, 403, 'DENIED', 'reading /metrics needs the access.metrics grant (users or groups)');
        }
        sendText(res, 200, PROMETHEUS_CONTENT_TYPE, metrics.render(), { 'Cache-Control': 'no-store' }, req.method === 'HEAD');
      },
    });
  }
}

/** The lock file of a filesystem root: one writing process at a time. */
export function rootLockFile(root: string): string {
  return join(root, '.berth', 'lock');
}

/** The driver the config names: the root folder, or an S3 bucket. */
export async function createDriver(config: LoadedConfig): Promise<StorageDriver> {
  const backend = config.core.storage.backend;
  if (backend.kind === 's3') {
    // Loaded only when asked for: the AWS SDK is most of the bundle and a filesystem registry never needs it.
    const { S3Driver } = await import('./storage/s3Driver.js');
    return new S3Driver(backend.s3);
  }
  return new FsDriver(config.core.root, { fsync: backend.fsync });
}

/**
 * Takes the root's lock for `purpose` when the driver is a folder only this process may write;
 * a shared driver (S3) takes none: several registries serve one bucket.
 */
export function lockStorage(driver: StorageDriver, purpose: string): RootLock | undefined {
  return driver instanceof FsDriver ? acquireRootLock(driver.root, rootLockFile(driver.root), purpose) : undefined;
}

export interface ComposedServer {
  driver: StorageDriver;
  /** The link rules over the driver, before any wrapper: the upload purge runs on it. */
  linkStorage: LinkStorage;
  storage: Storage;
  hooks: ServerHooks;
  handler: RegistryHandler;
}

/** Builds the server from the config; `driver` is created by the caller (it takes the lock first). */
export async function composeServer(config: LoadedConfig, driver: StorageDriver, log: LogFn): Promise<ComposedServer> {
  const { core } = config;
  // Large manifests are parsed off the event loop, by the handler and by storage alike.
  const manifestParser = new ManifestParserPool({ maxManifestBytes: core.storage.maxManifestBytes });
  const linkStorage = new LinkStorage(driver, { manifestParser });
  await linkStorage.init();
  const hooks = defaultHooks();
  hooks.onClose.push(() => manifestParser.close());
  // Upload files kept open between chunks; the S3 driver's connections are its owner's to release.
  if (driver instanceof FsDriver) hooks.onClose.push(() => driver.close());
  const ctx: PluginContext = { sections: config.sections, hooks, root: core.root, log };
  await wireTeamFeatures(ctx, driver, core.storage.readOnly);
  for (const plugin of registeredPlugins()) await plugin(ctx);
  if (core.storage.readOnly) {
    hooks.readOnlyReason = 'this registry is read-only for maintenance (storage.readOnly.enabled), for example while gc runs on its storage; pulls work, push again once it is writable';
  }
  if (core.log.requests) hooks.requestLog.push(requestLogger(log));
  const storage = hooks.storageWrappers.reduce<Storage>((s, wrap) => wrap(s), linkStorage);
  const handler = new RegistryHandler({
    storage, hooks, manifestParser, deleteEnabled: core.storage.deleteEnabled, maxManifestBytes: core.storage.maxManifestBytes, storageName: driver.description,
    onServerError: (error, requestId) => log('error', 'request failed', { requestId, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  });
  return { driver, linkStorage, storage, hooks, handler };
}
