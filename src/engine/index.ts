/**
 * The Docker engine, vscode-free: local images, tag, remove, push and pull with typed progress.
 *
 * ## Connecting
 * ```ts
 * const engine = new Engine();                 // free and never throws: no dockerode, no file read, no connection yet
 * //   options: { socketPath?, dockerHost?, env?, configDir?, pingTimeoutMs? }
 * //   order: socketPath → dockerHost → DOCKER_HOST → current docker context → /var/run/docker.sock,
 * //   and when that is missing: rootless, Docker Desktop and Podman sockets (wellKnownSockets)
 * await engine.ping();                         // or: const engine = await connectEngine(options)
 * engine.address                               // 'unix:///var/run/docker.sock', for messages
 * engine.resolved                              // { endpoint, source: 'socketPath' | 'dockerHost' | 'DOCKER_HOST' | 'context' | 'default', display }
 * //                                              or the 'no-engine' EngineError an unusable DOCKER_HOST/context gives
 * ```
 * dockerode is loaded on the first call that needs it (activation stays fast).
 *
 * ## Images
 * ```ts
 * await engine.listImages()                    // LocalImage[] { id, shortId, tags, digests, sizeBytes, createdAt, labels }, newest first
 * await engine.inspectImage(ref)               // ImageDetails (+ os, architecture, variant?, layers)
 * await engine.tag('app:dev', 'localhost:5000/team/app:1')
 * await engine.remove(ref, { force?, noPrune? })   // { untagged, deleted }
 * await engine.watchImages((e) => …, { signal })     // ImageEvent { action: 'tag' | 'untag' | 'delete' | 'pull' | …, id, name?, time }
 * //   one long-lived request until signal aborts (resolves) or the engine goes away (rejects 'no-engine')
 * ```
 *
 * ## Push, pull, retag-and-push
 * ```ts
 * const auth = engineAuth(registryOfReference(ref), credential);   // credential from src/credentials or SecretStorage
 * const cliAuth = await authForReference(ref, new DockerCredentialStore());   // what `docker push` would send
 * const ac = new AbortController();
 * const result = await engine.push(ref, { auth, signal: ac.signal, onProgress: (e) => … });
 * //   PushResult { reference, digest?, manifestSizeBytes?, layers }
 * await engine.pull(ref, { auth, signal, onProgress, platform? });   // PullResult { reference, digest?, status?, layers }
 * await engine.retagAndPush('app:dev', 'localhost:5000/team/app:1', { auth, signal, onProgress });
 * ```
 * `onProgress` receives `ProgressEvent`s, each with `overall` ({ layers, layersDone, currentBytes, totalBytes }):
 * `{ type: 'layer', layer: { id, status, current?, total?, sizeBytes?, done } }`,
 * `{ type: 'status', message }` and, for a push, `{ type: 'digest', tag?, digest, sizeBytes? }`.
 *
 * ## Build
 * ```ts
 * const info = parseDockerfile(text);           // { args: [{ name, defaultValue?, scope }], stages: [{ name?, base }], problems }
 * askableArgs(info)                            // each ARG once, without the predefined ones (proxies, TARGETPLATFORM…)
 * await engine.build({ contextDir, dockerfile?, tags, buildArgs?, target?, signal, onProgress })
 * //   onProgress: { type: 'step', step, total, instruction } | { type: 'output', text }; BuildResult { imageId, tags, steps }
 * ```
 *
 * ## Errors
 * Everything throws `EngineError` with `kind`: 'no-engine' | 'unauthorized' | 'denied' | 'not-found' |
 * 'registry-unreachable' | 'rate-limited' | 'conflict' | 'invalid-reference' | 'cancelled' | 'failed', a message a person
 * can act on, and `engineMessage` (what the engine said). A push whose stream carries an error line fails,
 * however the stream ends.
 */
export {
  authForReference, connectEngine, DEFAULT_PING_TIMEOUT_MS, Engine, engineAuth, registryOfReference, splitImageReference,
  type CredentialLookup, type EngineAuth, type EngineOptions, type EngineVersion, type ImageDetails, type ImageEvent, type LocalImage, type PullOptions,
  type PullResult, type PushResult, type RemovedImage, type RetagAndPushResult, type TransferOptions,
} from './engine';
export {
  DEFAULT_UNIX_SOCKET, DEFAULT_WINDOWS_PIPE, EndpointError, displayEndpoint, parseDockerHost, resolveEngineEndpoint, wellKnownSockets,
  type EndpointOptions, type EndpointSource, type EngineEndpoint, type ResolvedEndpoint,
} from './endpoint';
export { EngineError, classifyEngineMessage, type EngineErrorKind } from './errors';
export { BuildTracker, MAX_CONTEXT_FILES, type BuildEvent, type BuildOptions, type BuildResult } from './build';
export { askableArgs, parseDockerfile, PREDEFINED_ARGS, type DockerfileArg, type DockerfileInfo, type DockerfileStage } from './dockerfile';
export {
  JsonObjectSplitter, ProgressTracker, type EngineStreamMessage, type LayerProgress, type OverallProgress, type ProgressEvent,
} from './progress';
