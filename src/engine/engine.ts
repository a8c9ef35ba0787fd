/**
 * The Docker engine through dockerode: local images, tag, remove, push and pull with progress.
 *
 * dockerode (and the ssh2 and protobuf code it pulls in) is loaded on the first call that needs it,
 * never when this module is imported: the extension must activate in well under 50 ms, and many
 * sessions never touch the engine at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type Dockerode from 'dockerode';
import { isReferenceError, parseReference, registryFromConfigKey, splitHost, DOCKER_HUB_CONFIG_KEY } from '../oci/reference';
import { EndpointError, resolveEngineEndpoint, wellKnownSockets, type EndpointOptions, type EngineEndpoint, type ResolvedEndpoint } from './endpoint';
import { cancelledError, EngineError, fromDockerodeError, noEngineError, withoutCredentials } from './errors';
import { BuildTracker, buildQuery, contextFiles, type BuildOptions, type BuildResult } from './build';
import { JsonObjectSplitter, ProgressTracker, type LayerProgress, type ProgressEvent } from './progress';

type DockerodeClass = typeof Dockerode;
let dockerodeLoading: Promise<DockerodeClass> | undefined;

function loadDockerode(): Promise<DockerodeClass> {
  dockerodeLoading ??= import('dockerode').then((m) => (m as unknown as { default?: DockerodeClass }).default ?? (m as unknown as DockerodeClass));
  return dockerodeLoading;
}

/** Registry credentials in the shape the engine's X-Registry-Auth header carries. */
export interface EngineAuth {
  /** The registry, as `host[:port]` (Docker Hub: `https://index.docker.io/v1/` or `docker.io`). */
  serverAddress: string;
  username?: string;
  password?: string;
  /** An OAuth2 refresh token, as `docker login` keeps for registries that issue one. */
  identityToken?: string;
  /** A bearer token, sent as is. */
  registryToken?: string;
}

/** An EngineAuth from credentials as src/credentials returns them. */
export function engineAuth(server: string, c: { username?: string; password?: string; identityToken?: string; registryToken?: string }): EngineAuth {
  return {
    serverAddress: server,
    ...(c.username ? { username: c.username } : {}),
    ...(c.password ? { password: c.password } : {}),
    ...(c.identityToken ? { identityToken: c.identityToken } : {}),
    ...(c.registryToken ? { registryToken: c.registryToken } : {}),
  };
}

/** Anything that finds credentials for a server the way src/credentials' DockerCredentialStore does. */
export interface CredentialLookup {
  get(server: string): Promise<{ username?: string; password?: string; identityToken?: string; registryToken?: string } | undefined>;
}

/**
 * The credentials the docker CLI would send for `ref`'s registry (config.json, credsStore, credHelpers),
 * as an EngineAuth; undefined when it has none. Lets a push work for registries someone signed in to
 * with `docker login` but never connected in the editor.
 */
export async function authForReference(ref: string, credentials: CredentialLookup): Promise<EngineAuth | undefined> {
  const server = registryOfReference(ref);
  const found = await credentials.get(server);
  return found && (found.password || found.identityToken || found.registryToken) ? engineAuth(server, found) : undefined;
}

function authConfig(a: EngineAuth): Dockerode.AuthConfig {
  const config: Record<string, string> = { serveraddress: a.serverAddress };
  if (a.username) config['username'] = a.username;
  if (a.password) config['password'] = a.password;
  if (a.identityToken) config['identitytoken'] = a.identityToken;
  if (a.registryToken) config['registrytoken'] = a.registryToken;
  return config as unknown as Dockerode.AuthConfig;
}

export interface LocalImage {
  /** `sha256:<hex>` */
  id: string;
  /** The 12 characters the docker CLI shows. */
  shortId: string;
  /** `repository:tag` references; empty for a dangling image. */
  tags: string[];
  /** `repository@sha256:…` of registries the image was pushed to or pulled from. */
  digests: string[];
  sizeBytes: number;
  createdAt: Date;
  labels: Record<string, string>;
}

export interface ImageDetails extends LocalImage {
  os: string;
  architecture: string;
  variant?: string;
  /** Layer diff ids, bottom first. */
  layers: string[];
}

export interface TransferOptions {
  auth?: EngineAuth;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

export interface PullOptions extends TransferOptions {
  /** `linux/arm64`, for an image index. */
  platform?: string;
}

export interface PushResult {
  reference: string;
  /** The manifest digest the registry stored (when the engine reported it). */
  digest?: string;
  /** The manifest's size in bytes (when the engine reported it). */
  manifestSizeBytes?: number;
  layers: LayerProgress[];
}

export interface PullResult {
  reference: string;
  digest?: string;
  /** "Downloaded newer image for …" or "Image is up to date for …". */
  status?: string;
  layers: LayerProgress[];
}

export interface RetagAndPushResult extends PushResult {
  source: string;
}

export interface RemovedImage {
  untagged: string[];
  deleted: string[];
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

/** Something happened to a local image (the Local Images view refreshes on these). */
export interface ImageEvent {
  /** The engine's word: pull, push, tag, untag, delete, import, load, save, build… */
  action: string;
  /** Image id or reference the engine names. */
  id: string;
  /** The reference involved, when the engine says (`localhost:5000/app:1`). */
  name?: string;
  time: Date;
}

export interface EngineOptions extends EndpointOptions {
  /** How long the first contact may take before the engine counts as absent. */
  pingTimeoutMs?: number;
}

export const DEFAULT_PING_TIMEOUT_MS = 5_000;

/**
 * Splits `[host[:port]/]name[:tag][@digest]` into the repository as written and its tag or digest,
 * after checking it with the docker CLI's rules.
 */
export function splitImageReference(ref: string, opts: { defaultTag?: boolean } = {}): { repository: string; tag?: string; digest?: string } {
  const parsed = parseReference(ref, { defaultTag: opts.defaultTag ?? true });
  if (isReferenceError(parsed)) throw new EngineError('invalid-reference', `"${ref}" is not an image reference: ${parsed.message}`);
  let rest = ref.trim();
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  const colon = rest.lastIndexOf(':');
  const repository = colon > rest.lastIndexOf('/') ? rest.slice(0, colon) : rest;
  return { repository, ...(parsed.tag !== undefined ? { tag: parsed.tag } : {}), ...(parsed.digest !== undefined ? { digest: parsed.digest } : {}) };
}

/** The registry a reference lives in, as the key an EngineAuth wants (`docker.io` → the Hub's v1 URL). */
export function registryOfReference(ref: string): string {
  const { registry } = splitHost(splitImageReference(ref).repository);
  return registryFromConfigKey(registry) === 'docker.io' ? DOCKER_HUB_CONFIG_KEY : registry;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function dockerodeOptions(e: EngineEndpoint): Dockerode.DockerOptions {
  switch (e.kind) {
    case 'socket':
      return { socketPath: e.socketPath };
    case 'ssh':
      return { protocol: 'ssh', host: e.host, ...(e.port ? { port: e.port } : {}), ...(e.username ? { username: e.username } : {}) };
    case 'tcp': {
      if (!e.tls) return { protocol: 'http', host: e.host, port: e.port };
      const read = (path: string, what: string): string => {
        const text = readOptional(path);
        if (text === undefined) throw new EngineError('no-engine', `DOCKER_TLS_VERIFY is set but the ${what} ${path} cannot be read: set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem`);
        return text;
      };
      return { protocol: 'https', host: e.host, port: e.port, ca: read(e.tls.caPath, 'CA'), cert: read(e.tls.certPath, 'certificate'), key: read(e.tls.keyPath, 'key') };
    }
  }
}

/**
 * One Docker engine. Constructing it costs nothing (no dockerode, no connection); the first call
 * loads dockerode and connects. Every failure is an EngineError.
 */
export class Engine {
  private resolution: ResolvedEndpoint | EngineError | undefined;
  private docker: Promise<Dockerode> | undefined;

  /** Never throws and touches nothing: a bad DOCKER_HOST or context shows up on the first call. */
  constructor(private readonly options: EngineOptions = {}) {}

  private resolve(): ResolvedEndpoint | EngineError {
    if (!this.resolution) {
      try {
        this.resolution = resolveEngineEndpoint({ readText: readOptional, exists: existsSync, ...this.options });
      } catch (e) {
        if (!(e instanceof EndpointError)) throw e;
        this.resolution = new EngineError('no-engine', `No Docker engine to talk to: ${e.message}`);
      }
    }
    return this.resolution;
  }

  /** Where the engine is and how that was decided; a 'no-engine' EngineError when the setting is unusable. */
  get resolved(): ResolvedEndpoint | EngineError {
    return this.resolve();
  }

  /** Where this engine is, for messages (`unix:///var/run/docker.sock`). */
  get address(): string {
    const r = this.resolve();
    if (!(r instanceof EngineError)) return r.display;
    return this.options.socketPath ?? this.options.dockerHost ?? (this.options.env ?? process.env)['DOCKER_HOST'] ?? 'the configured Docker engine';
  }

  private client(): Promise<Dockerode> {
    const r = this.resolve();
    if (r instanceof EngineError) return Promise.reject(r);
    this.docker ??= loadDockerode().then((Docker) => new Docker(dockerodeOptions(r.endpoint)));
    // A failed load (bad TLS files) must be retried on the next call, not remembered.
    this.docker.catch(() => (this.docker = undefined));
    return this.docker;
  }

  private async call<T>(action: string, work: (d: Dockerode) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw cancelledError(action);
    try {
      return await work(await this.client());
    } catch (e) {
      throw this.explain(fromDockerodeError(action, e, this.address, signal));
    }
  }

  /** A missing default socket says where else was looked, so the person knows DOCKER_HOST is the way out. */
  private explain(error: EngineError): EngineError {
    const r = this.resolve();
    if (error.kind !== 'no-engine' || r instanceof EngineError || r.source !== 'default') return error;
    return new EngineError('no-engine', `${error.message} (Also looked for rootless Docker, Docker Desktop and Podman sockets: ${wellKnownSockets(this.options.env ?? process.env).join(', ')}.)`, error.engineMessage, error.statusCode);
  }

  /** Checks that an engine answers; a typed 'no-engine' error says why not. */
  async ping(timeoutMs = this.options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS): Promise<void> {
    let docker: Dockerode;
    try {
      docker = await this.client();
    } catch (e) {
      throw this.explain(fromDockerodeError('Contacting the Docker engine', e, this.address));
    }
    // The clock starts after dockerode has loaded: a slow first load is not a slow engine.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      // dockerode takes an abort signal here; its type declarations do not say so.
      const ping = docker.ping as unknown as (this: Dockerode, opts: { abortSignal: AbortSignal }) => Promise<unknown>;
      await ping.call(docker, { abortSignal: controller.signal });
    } catch (e) {
      if (controller.signal.aborted) throw noEngineError(this.address, 'ETIMEDOUT', `no answer within ${timeoutMs} ms`);
      throw this.explain(fromDockerodeError('Contacting the Docker engine', e, this.address));
    } finally {
      clearTimeout(timer);
    }
  }

  async version(): Promise<EngineVersion> {
    const v = await this.call('Reading the engine version', (d) => d.version());
    return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
  }

  /** Local images, newest first. */
  async listImages(opts: { signal?: AbortSignal } = {}): Promise<LocalImage[]> {
    const images = await this.call('Listing images', (d) => d.listImages({ ...(opts.signal ? { abortSignal: opts.signal } : {}) }), opts.signal);
    return images
      .map((i): LocalImage => ({
        id: i.Id,
        shortId: i.Id.replace(/^sha256:/, '').slice(0, 12),
        tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        digests: (i.RepoDigests ?? []).filter((t) => !t.startsWith('<none>@')),
        sizeBytes: i.Size,
        createdAt: new Date(i.Created * 1000),
        labels: i.Labels ?? {},
      }))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  async inspectImage(ref: string): Promise<ImageDetails> {
    const i = await this.call(`Inspecting ${ref}`, (d) => d.getImage(ref).inspect());
    const extra = i as unknown as { Variant?: string };
    return {
      id: i.Id,
      shortId: i.Id.replace(/^sha256:/, '').slice(0, 12),
      tags: i.RepoTags ?? [],
      digests: i.RepoDigests ?? [],
      sizeBytes: i.Size,
      createdAt: new Date(i.Created),
      labels: i.Config?.Labels ?? {},
      os: i.Os,
      architecture: i.Architecture,
      ...(extra.Variant ? { variant: extra.Variant } : {}),
      layers: i.RootFS?.Layers ?? [],
    };
  }

  /** Gives the local image `source` (a reference or an id) the name `target` (`host/repo:tag`). */
  async tag(source: string, target: string): Promise<void> {
    const { repository, tag, digest } = splitImageReference(target);
    if (digest) throw new EngineError('invalid-reference', `"${target}" names a digest: a tag target needs a tag, e.g. ${repository}:latest`);
    await this.call(`Tagging ${source} as ${target}`, (d) => d.getImage(source).tag({ repo: repository, ...(tag ? { tag } : {}) }));
  }

  /** Removes a tag (and the image, when it was its last tag). */
  async remove(ref: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<RemovedImage> {
    const result = await this.call(`Removing ${ref}`, (d) => d.getImage(ref).remove({ force: opts.force ?? false, noprune: opts.noPrune ?? false })) as unknown;
    const out: RemovedImage = { untagged: [], deleted: [] };
    for (const r of Array.isArray(result) ? (result as Array<{ Untagged?: string; Deleted?: string }>) : []) {
      if (r.Untagged) out.untagged.push(r.Untagged);
      if (r.Deleted) out.deleted.push(r.Deleted);
    }
    return out;
  }

  /**
   * Pushes `ref` (`host/repo:tag`; `:latest` when no tag) to its registry, reporting per-layer progress.
   * Fails with a typed EngineError when the engine reports an error anywhere in the stream, and with
   * 'cancelled' when `signal` aborts (the connection is closed, which stops the engine's push).
   */
  async push(ref: string, opts: TransferOptions = {}): Promise<PushResult> {
    const { repository, tag, digest } = splitImageReference(ref);
    if (digest) throw new EngineError('invalid-reference', `"${ref}" names a digest: push a tag, e.g. ${repository}:latest`);
    const action = `Pushing ${repository}:${tag ?? 'latest'}`;
    const tracker = new ProgressTracker(action);
    const stream = await this.call(action, (d) => d.getImage(repository).push({
      tag: tag ?? 'latest',
      ...(opts.auth ? { authconfig: authConfig(opts.auth) } : {}),
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    }) as Promise<NodeJS.ReadableStream>, opts.signal);
    await this.follow(action, stream, tracker, opts);
    return {
      reference: `${repository}:${tag ?? 'latest'}`,
      ...(tracker.digest ? { digest: tracker.digest } : {}),
      ...(tracker.digestSizeBytes !== undefined ? { manifestSizeBytes: tracker.digestSizeBytes } : {}),
      layers: tracker.layerSummaries(),
    };
  }

  /** Pulls `ref` (by tag or digest), reporting per-layer progress; cancellable like push. */
  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    const { repository, tag, digest } = splitImageReference(ref);
    const wanted = digest ?? tag ?? 'latest';
    const reference = digest ? `${repository}@${digest}` : `${repository}:${wanted}`;
    const action = `Pulling ${reference}`;
    const tracker = new ProgressTracker(action);
    const stream = await this.call(action, (d) => d.createImage({
      fromImage: repository,
      tag: wanted,
      ...(opts.platform ? { platform: opts.platform } : {}),
      ...(opts.auth ? { authconfig: authConfig(opts.auth) } : {}),
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    }) as Promise<NodeJS.ReadableStream>, opts.signal);
    await this.follow(action, stream, tracker, opts);
    return {
      reference,
      ...(tracker.digest ? { digest: tracker.digest } : {}),
      ...(tracker.finalStatus ? { status: tracker.finalStatus } : {}),
      layers: tracker.layerSummaries(),
    };
  }

  /**
   * Builds an image from a folder and a Dockerfile (build.ts), reporting each step; 'cancelled' when
   * `signal` aborts (the connection closes and the engine stops the build).
   */
  async build(opts: BuildOptions): Promise<BuildResult> {
    const action = `Building ${opts.tags[0] ?? 'the image'}`;
    if (opts.signal?.aborted) throw cancelledError(action);
    const query = buildQuery(opts);
    const src = await contextFiles(opts.contextDir);
    const stream = await this.call(action, (d) => d.buildImage({ context: opts.contextDir, src }, query) as Promise<NodeJS.ReadableStream>, opts.signal);
    const tracker = new BuildTracker(action);
    const outcome = await readJsonStream(stream, (raw) => {
      for (const event of tracker.accept(raw)) opts.onProgress?.(event);
    }, opts.signal).catch((e: unknown) => {
      throw tracker.failure() ?? fromDockerodeError(action, e, this.address, opts.signal);
    });
    for (const event of tracker.flush()) opts.onProgress?.(event);
    const failure = tracker.failure();
    if (failure) throw failure;
    if (outcome === 'aborted') throw cancelledError(action);
    if (!tracker.imageId) throw new EngineError('failed', `${action} ended without an image: the engine closed the connection before the build finished.`);
    return { imageId: tracker.imageId, tags: opts.tags, steps: tracker.steps };
  }

  /** Tags the local image `source` as `target` and pushes `target`: "Retag and Push…" in one call. */
  async retagAndPush(source: string, target: string, opts: TransferOptions = {}): Promise<RetagAndPushResult> {
    if (opts.signal?.aborted) throw cancelledError(`Pushing ${target}`);
    await this.tag(source, target);
    return { source, ...(await this.push(target, opts)) };
  }

  /**
   * Calls `onEvent` for every image event until `signal` aborts (then resolves) or the engine goes
   * away (then rejects with an EngineError). One long-lived request, no polling.
   */
  async watchImages(onEvent: (event: ImageEvent) => void, opts: { signal: AbortSignal }): Promise<void> {
    const { signal } = opts;
    const action = 'Watching image events';
    if (signal.aborted) return;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.call(action, (d) => d.getEvents({ filters: { type: ['image'] }, abortSignal: signal } as Dockerode.GetEventsOptions), signal);
    } catch (e) {
      if (e instanceof EngineError && e.kind === 'cancelled') return;
      throw e;
    }
    const outcome = await readJsonStream(stream, (raw) => {
      const event = imageEventOf(raw);
      if (event) onEvent(event);
    }, signal).catch((e: unknown) => {
      if (signal.aborted) return 'aborted' as const;
      throw fromDockerodeError(action, e, this.address);
    });
    if (outcome !== 'aborted') throw new EngineError('no-engine', `${action} stopped: the engine at ${this.address} closed the connection. Check that it is still running.`);
  }

  /** Reads the progress stream to its end; resolves only when it ended without an error line. */
  private async follow(action: string, stream: NodeJS.ReadableStream, tracker: ProgressTracker, opts: TransferOptions): Promise<void> {
    const { signal, onProgress } = opts;
    const outcome = await readJsonStream(stream, (raw) => {
      for (const event of tracker.accept(raw)) onProgress?.(event);
    }, signal).catch((e: unknown) => {
      throw withoutCredentials(tracker.failure() ?? fromDockerodeError(action, e, this.address, signal), !!opts.auth);
    });
    const failure = tracker.failure();
    if (failure) throw withoutCredentials(failure, !!opts.auth);
    if (outcome === 'aborted') throw cancelledError(action);
    if (outcome === 'closed') {
      throw new EngineError('failed', `${action} failed: the engine closed the connection before it finished. Check that the engine is still running and try again.`);
    }
  }
}

/**
 * Feeds each JSON object of an engine stream to `onObject` until the stream ends ('ended'), is cut
 * off without an end ('closed'), or `signal` aborts ('aborted', and the stream is destroyed, which
 * closes the connection and makes the engine stop). Rejects with the stream's own error.
 */
function readJsonStream(stream: NodeJS.ReadableStream, onObject: (raw: unknown) => void, signal?: AbortSignal): Promise<'ended' | 'closed' | 'aborted'> {
  return new Promise((resolve, reject) => {
    const splitter = new JsonObjectSplitter();
    const decoder = new StringDecoder('utf8');
    let settled = false;
    const settle = (outcome: 'ended' | 'closed' | 'aborted' | Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = (): void => {
      settle('aborted');
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    };
    const feed = (text: string): void => {
      for (const object of splitter.push(text)) {
        try {
          onObject(object);
        } catch {
          // A listener's bug must not break the transfer or watch it is following.
        }
      }
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer | string) => feed(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    stream.on('end', () => {
      feed(decoder.end());
      splitter.end();
      settle('ended');
    });
    stream.on('error', (e: Error) => settle(signal?.aborted ? 'aborted' : e));
    stream.on('close', () => settle(signal?.aborted ? 'aborted' : 'closed'));
  });
}

function imageEventOf(raw: unknown): ImageEvent | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as { Type?: string; Action?: string; status?: string; id?: string; time?: number; timeNano?: number; Actor?: { ID?: string; Attributes?: Record<string, string> } };
  if (m.Type !== undefined && m.Type !== 'image') return undefined;
  const action = m.Action ?? m.status;
  const id = m.Actor?.ID ?? m.id;
  if (!action || !id) return undefined;
  const name = m.Actor?.Attributes?.['name'];
  const time = typeof m.timeNano === 'number' ? new Date(Math.floor(m.timeNano / 1e6)) : new Date((m.time ?? 0) * 1000);
  return { action, id, ...(name ? { name } : {}), time };
}

/** An Engine that has answered a ping: the quick way to find out whether an engine is there. */
export async function connectEngine(options: EngineOptions = {}): Promise<Engine> {
  const engine = new Engine(options);
  await engine.ping();
  return engine;
}
