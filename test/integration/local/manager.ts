/** A LocalRegistry on the built `dist/registry.js`, as the extension creates it. */
import { join } from 'node:path';
import { LocalRegistry } from '../../../src/local/localRegistry';
import { REGISTRY_CLI } from '../../support/berthRegistry';

/** `port` may be a function: the extension reads its setting on every start. */
export function localManager(opts: { dir: string; port: number | (() => number); lines?: string[]; configPath?: () => Promise<string | undefined>; env?: NodeJS.ProcessEnv }): LocalRegistry {
  const port = opts.port;
  /** Each line as the output channel gets it: `<level> <text>`. */
  const at = (level: string) => (m: string): void => void opts.lines?.push(`${level} ${m}`);
  return new LocalRegistry({
    execPath: process.execPath,
    cliPath: REGISTRY_CLI,
    isElectron: false,
    env: opts.env ?? process.env,
    port: typeof port === 'function' ? port : () => port,
    storagePath: () => join(opts.dir, 'data'),
    ...(opts.configPath ? { configPath: opts.configPath } : {}),
    log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  });
}
