/**
 * Credentials: the docker CLI's config.json and credential helpers, the docker-registry secret,
 * and (in secretStore.ts, the only file here that knows about VS Code) Berth's own saved logins.
 *
 * ## Reading what the docker CLI has
 * ```ts
 * const docker = new DockerCredentialStore();            // $DOCKER_CONFIG or ~/.docker; { configDir, env, helperTimeoutMs }
 * // Podman/Buildah/skopeo logins: new DockerCredentialStore({ configFile: containersAuthFiles()[i], format: 'containers' })
 * const cred = await docker.get('ghcr.io');             // RegistryCredential | undefined
 * //   { server, username, password?, identityToken?, registryToken?, email?, source }
 * //   credHelpers[host] → credsStore → auths, like the CLI; Docker Hub under any of its names.
 * const { entries, problems } = await docker.list();    // CredentialSummary[] without secrets, for an import picker
 * ```
 * A helper that is missing, fails, answers garbage or hangs throws `CredentialHelperError`
 * (`problem`: 'missing' | 'failed' | 'timeout' | 'bad-output') whose message says what to do;
 * a broken config.json throws `DockerConfigError`.
 *
 * ## Logging the docker CLI in and out
 * ```ts
 * const where = await docker.store('localhost:5000', { username, password });  // helper if configured, else auths (0600, atomic)
 * await docker.erase('localhost:5000');                                       // helper and auths, every spelling of the server
 * ```
 *
 * ## The docker-registry secret
 * `validateRegistrySecret({ server, username, password, email? })` → `ValidationProblem[]` ({ field, message });
 * `serverProblem(server)`, `secretNameProblem(name)` / `isValidSecretName(name)`, `suggestSecretName(server)`;
 * `dockerConfigJson(secret)` and `await kubernetesPullSecretYaml(secret, { name?, namespace? })` (async:
 * the yaml package loads on first use; rejects with `InvalidRegistrySecretError` listing every problem).
 *
 * ## Server keys
 * `serverHost(s)` (`host[:port]`, Docker Hub → `docker.io`), `configKeyFor(s)` (the CLI's key,
 * Docker Hub → `https://index.docker.io/v1/`), `sameServer(a, b)`, `isDockerHub(s)`.
 *
 * ## Berth's saved logins (VS Code SecretStorage)
 * `new RegistrySecretStore(context.secrets)`: `set({ server, username, password?, identityToken?, email? })`,
 * `get(server)`, `delete(server)`, `list()` (hosts), `all()`. secretStore.ts imports only vscode's types,
 * so this index still loads outside VS Code.
 */
export {
  DockerCredentialStore,
  type CredentialListing, type CredentialSource, type CredentialSummary, type DockerCredentialStoreOptions,
  type LoginCredentials, type RegistryCredential,
} from './dockerCredentials';
export {
  CONFIG_FILE_NAME, DockerConfigError, containersAuthFiles, decodeAuthEntry, dockerConfigDir, dockerConfigDirs, encodeAuthEntry, parseDockerConfig,
  readDockerConfig, updateDockerConfig, type AuthEntry, type DecodedAuth, type DockerConfigFile,
} from './dockerConfig';
export {
  CredentialHelper, CredentialHelperError, DEFAULT_HELPER_TIMEOUT_MS, IDENTITY_TOKEN_USERNAME, helperProgram,
  type CredentialHelperProblem, type HelperCredential, type HelperOptions,
} from './helper';
export {
  InvalidRegistrySecretError, MAX_SECRET_NAME_LENGTH, dockerConfigJson, isValidSecretName, kubernetesPullSecretYaml,
  secretNameProblem, serverProblem, suggestSecretName, validateRegistrySecret,
  type DockerRegistrySecret, type SecretField, type ValidationProblem,
} from './registrySecret';
export { DOCKER_HUB_CONFIG_KEY, configKeyFor, isDockerHub, sameServer, serverHost } from './servers';
export { DEFAULT_SECRET_NAMESPACE, RegistrySecretStore, type SecretStorageLike, type StoredRegistryCredentials } from './secretStore';
