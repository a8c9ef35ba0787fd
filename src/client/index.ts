/**
 * # Berth's registry client (vscode-free)
 *
 * One `RegistryClient` for the whole extension; ask it for a `Registry` per registry name (as written
 * in references: `docker.io`, `ghcr.io`, `localhost:5000`). Every method takes an optional
 * `{ signal }` (AbortSignal) and fails only with `RegistryError`, whose `kind` says what to offer:
 * `unauthorized` (sign in), `denied`, `not-found`, `tls` (add a CA file / skip verification),
 * `unreachable`, `not-a-registry`, `rate-limited` (`retryAfterMs`), `deletion-disabled`,
 * `unsupported`, `timeout`, `aborted`, `invalid-response`, `bad-request`, `server-error`.
 * `message` is written for a person.
 *
 * ```ts
 * const client = new RegistryClient({
 *   credentials: (registry) => credentialStore.get(registry),     // {username,password} | {identityToken} | undefined
 *   hostOptions: (apiHost) => settings.tls[apiHost],              // {scheme?, caFile?, caPem?, skipTlsVerify?}
 *   timeoutMs: 30_000, retry: { maxRetries: 3 },                  // HTTPS_PROXY/NO_PROXY come from process.env (or `env`)
 *   onWarning: ({ host, text }) => log(host, text),               // registry `Warning: 299` texts, once each
 *   onRequest: ({ method, url, status }) => trace(method, url, status), // no headers or bodies
 * });
 * const reg = client.registry('localhost:5000');
 * await reg.checkCredentials();                 // GET /v2/ → { auth: 'anonymous'|'basic'|'bearer', signedIn }
 *
 * // Trees: show page one at once, keep `page.next` in a "Load more…" node.
 * const r = await reg.catalogPage({ pageSize: 100 });            // Docker Hub: pass { namespace: 'user' }
 * if (r.kind === 'unsupported') showAddByName(r.message);       // 401/403/404 on _catalog, Hub without namespace
 * else { show(r.page.items); if (r.page.next) later(() => reg.catalogPage({ cursor: r.page.next })); }
 * const tags = await reg.tagsPage('team/app', { pageSize: 100 }); // same paging, cursor in tags.next
 * // Keep the whole cursor object if you can ({url, linked}); a bare {url} also works within one client.
 * for await (const page of reg.tagsPages('team/app')) …           // or walk lazily, one page in memory
 *
 * await reg.headManifest(repo, 'v1');           // { digest, mediaType, size }
 * await reg.getManifest(repo, 'v1');            // + exact bytes and parsed manifest (digest-verified)
 * await reg.platforms(repo, 'v1');              // [{ platform, digest, attestation, … }]
 * await reg.imageConfig(repo, 'v1', { platform: 'linux/arm64' }); // { created, os, architecture, raw }
 * await reg.imageSize(repo, 'v1');              // { totalBytes, platforms: [{ bytes, layersBytes }] }
 * await reg.referrers(repo, digest);            // { descriptors, source: 'api'|'tag'|'none' }
 * await reg.deleteTag(repo, 'v1');              // tag only; 'unsupported' where only digests can go
 * await reg.deleteManifest(repo, 'v1');         // resolves the tag, deletes by digest (all its tags)
 * await reg.retag(repo, 'v1', 'stable');        // same bytes under a new tag
 * // Copy an image or a whole index (references from src/oci/reference.ts); progress per blob.
 * await copyImage(client, mustParseReference('a.io/x:1'), mustParseReference('b:5000/x:1'), { onProgress, signal });
 * // onProgress: blob-skipped | blob-mounted | blob-progress {bytesSent, size} | blob-done | manifest-pushed
 * client.forget('ghcr.io');                     // after sign-in/out: drop remembered credentials and tokens
 * ```
 *
 * Credentials are looked up per registry name as written in references (`docker.io`, not the config
 * key); `hostOptions` is keyed by the API host (`registry-1.docker.io` for Docker Hub).
 *
 * Auth: anonymous, Basic, and Bearer (challenge parameters in any order, several scopes; token by GET
 * with Basic credentials, or the OAuth2 refresh-token POST when the credential is an identity token,
 * falling back to GET where POST is refused); tokens are cached per registry and scope until
 * `expires_in`; a 401 is answered once with a token for the new challenge.
 * Transport: HTTPS with the system CAs plus a per-host CA file, or skip-verify when configured; plain
 * HTTP when `scheme: 'http'` is set or for a loopback host that does not speak TLS; 429/5xx retried
 * with backoff honouring `Retry-After`.
 */
export { RegistryClient, Registry } from './registryClient';
export type {
  RegistryClientOptions, CallOptions, PageOptions, CatalogOptions, CatalogPage, CredentialCheck, ManifestHead, FetchedManifest,
  ImageConfigInfo, ImageSize, Referrers, BlobUpload, DeleteResult,
} from './registryClient';
export { copyImage } from './copy';
export type { CopyEvent, CopyOptions, CopyResult } from './copy';
export type { Credential, CredentialProvider } from './auth';
export { RegistryError, isRegistryError } from './errors';
export type { RegistryErrorKind, SpecError } from './errors';
export type { Page, PageCursor } from './paging';
export { nameMatcher } from './search';
export type { SearchProgress, SearchResult, SearchSource } from './search';
export type { HostOptions, RetryOptions } from './transport';
export type { PlatformEntry } from './manifests';
export type { AuthScheme } from './session';
