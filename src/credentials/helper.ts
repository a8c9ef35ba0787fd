/**
 * The docker credential-helper protocol (github.com/docker/docker-credential-helpers):
 * `docker-credential-<name> <action>` with the input on stdin and JSON on stdout.
 *
 *   get    stdin: server URL               stdout: {"ServerURL","Username","Secret"}
 *   list   stdin: (nothing)                stdout: {"<url>": "<username>", …}
 *   store  stdin: {"ServerURL","Username","Secret"}
 *   erase  stdin: server URL
 *
 * A helper that has nothing for a server exits non-zero and prints "credentials not found in native keychain".
 */
import { spawn } from 'node:child_process';

/** The username helpers store when the secret is an identity (refresh) token rather than a password. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

/** What helpers print when they hold nothing for a server (pass words it its own way on erase). */
const NOT_FOUND_MESSAGE = /credentials not found|is not in the password store/i;

export const DEFAULT_HELPER_TIMEOUT_MS = 15_000;

export type CredentialHelperProblem = 'missing' | 'failed' | 'timeout' | 'bad-output';

export class CredentialHelperError extends Error {
  override readonly name = 'CredentialHelperError';
  constructor(
    readonly problem: CredentialHelperProblem,
    readonly helper: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HelperCredential {
  serverUrl: string;
  username: string;
  secret: string;
}

export interface HelperOptions {
  /** Environment of the helper (PATH decides which helper runs; pass needs GNUPGHOME, PASSWORD_STORE_DIR…). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /**
   * Words for the "missing" message saying where the helper is configured, e.g.
   * `credsStore from /home/me/.docker/config.json`.
   */
  configuredIn?: string;
}

export function helperProgram(name: string): string {
  return `docker-credential-${name}`;
}

/** A credential helper by name (`pass`, `secretservice`, `desktop`, `osxkeychain`, `ecr-login`, …). */
export class CredentialHelper {
  constructor(
    readonly name: string,
    private readonly options: HelperOptions = {},
  ) {
    // The name becomes part of a program name; refuse anything that could walk out of PATH lookup.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new CredentialHelperError('missing', name, `"${name}" is not a credential helper name: use the part after "docker-credential-", e.g. "pass"`);
    }
  }

  get program(): string {
    return helperProgram(this.name);
  }

  /** The credentials for `serverUrl`, or undefined when the helper holds none. */
  async get(serverUrl: string): Promise<HelperCredential | undefined> {
    const result = await this.run('get', serverUrl);
    if (result.notFound) return undefined;
    const parsed = this.parseJson(result.stdout, 'get');
    if (!isRecord(parsed) || typeof parsed['Username'] !== 'string' || typeof parsed['Secret'] !== 'string') {
      throw this.badOutput('get', 'expected {"ServerURL","Username","Secret"}');
    }
    // Some helpers (docker-credential-pass before 0.7) answer an unknown server with empty fields and exit 0.
    if (!parsed['Username'] && !parsed['Secret']) return undefined;
    return {
      serverUrl: typeof parsed['ServerURL'] === 'string' && parsed['ServerURL'] ? parsed['ServerURL'] : serverUrl,
      username: parsed['Username'],
      secret: parsed['Secret'],
    };
  }

  /** Server URL → username, for every server the helper holds credentials for. */
  async list(): Promise<Record<string, string>> {
    const result = await this.run('list', '');
    if (result.notFound) return {};
    const parsed = this.parseJson(result.stdout, 'list');
    if (!isRecord(parsed)) throw this.badOutput('list', 'expected {"<server>": "<username>"}');
    const out: Record<string, string> = {};
    for (const [server, user] of Object.entries(parsed)) if (typeof user === 'string') out[server] = user;
    return out;
  }

  async store(credential: HelperCredential): Promise<void> {
    await this.run('store', JSON.stringify({ ServerURL: credential.serverUrl, Username: credential.username, Secret: credential.secret }), false, credential.secret);
  }

  /** Removes the credentials for `serverUrl`; removing what is not there is not an error. */
  async erase(serverUrl: string): Promise<void> {
    await this.run('erase', serverUrl);
  }

  private parseJson(stdout: string, action: string): unknown {
    try {
      return JSON.parse(stdout);
    } catch {
      throw this.badOutput(action, 'its output is not JSON');
    }
  }

  private badOutput(action: string, what: string): CredentialHelperError {
    return new CredentialHelperError('bad-output', this.name, `${this.program} ${action} answered something unexpected (${what}); check that it is a docker credential helper`);
  }

  /** `secret`, when given, never appears in an error message, whatever the helper echoes back. */
  private run(action: string, input: string, notFoundAllowed = true, secret?: string): Promise<{ stdout: string; notFound: boolean }> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const child = spawn(this.program, [action], { env: this.options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        settle(() => reject(new CredentialHelperError('timeout', this.name,
          `${this.program} ${action} did not answer within ${timeoutMs} ms; it may be waiting for a passphrase or a keychain prompt: unlock it and try again`)));
      }, timeoutMs);
      child.once('error', (e: NodeJS.ErrnoException) => settle(() => {
        if (e.code === 'ENOENT') {
          const where = this.options.configuredIn ? ` or remove ${this.options.configuredIn}` : '';
          reject(new CredentialHelperError('missing', this.name, `${this.program} not found on PATH: install it${where}`));
        } else reject(new CredentialHelperError('failed', this.name, `${this.program} could not be started: ${e.message}`));
      }));
      child.once('close', (code) => settle(() => {
        if (code === 0) return resolve({ stdout, notFound: false });
        let said = (stdout.trim() || stderr.trim()).split('\n').slice(-3).join(' ');
        if (secret) said = said.split(secret).join('***');
        if (notFoundAllowed && NOT_FOUND_MESSAGE.test(said)) return resolve({ stdout, notFound: true });
        reject(new CredentialHelperError('failed', this.name, `${this.program} ${action} failed (exit ${code ?? 'signal'})${said ? `: ${said}` : ''}`));
      }));
      // A helper that exits before reading stdin makes the write fail with EPIPE; its exit status tells the story.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
