/**
 * `berth-registry user add|remove|list --htpasswd FILE`: manages the htpasswd file a running
 * registry reads (it notices changes by itself). Passwords come from stdin or a prompt without
 * echo, never from the command line, where they would land in shell history and `ps`.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_BCRYPT_COST, hashPassword, isValidUserName, readHtpasswdFile, upsertEntry, writeHtpasswdFile } from './htpasswd';

export const USER_USAGE = `  berth-registry user add NAME --htpasswd FILE [--cost N]
      Adds NAME or changes its password (bcrypt, as \`htpasswd -B\` writes). The password is read
      from stdin when it is not a terminal (e.g. \`printf %s "$PW" | berth-registry user add …\`),
      otherwise asked twice without echo.
  berth-registry user remove NAME --htpasswd FILE
  berth-registry user list --htpasswd FILE
`;

export class UserCommandError extends Error {}

export interface UserIo {
  stdinIsTty: boolean;
  readStdin(): Promise<string>;
  prompt(question: string): Promise<string>;
  out(line: string): void;
}

interface UserArgs {
  verb: string;
  name?: string;
  htpasswd: string;
  cost: number;
}

function parseUserArgs(argv: string[]): UserArgs {
  const [verb = '', ...rest] = argv;
  let name: string | undefined;
  let htpasswd: string | undefined;
  let cost = DEFAULT_BCRYPT_COST;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? rest[++i];
      if (v === undefined || v === '') throw new UserCommandError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--htpasswd') htpasswd = value();
    else if (flag === '--cost') {
      cost = Number(value());
      if (!Number.isInteger(cost) || cost < 4 || cost > 17) throw new UserCommandError('--cost must be a whole number from 4 to 17');
    } else if (flag === '--password' || flag === '-p') throw new UserCommandError('passwords are not taken on the command line (they end up in shell history and process lists); pipe it to stdin instead');
    else if (!flag.startsWith('-') && name === undefined) name = flag;
    else throw new UserCommandError(`unknown argument "${arg}" for user ${verb}`);
  }
  if (!htpasswd) throw new UserCommandError('--htpasswd FILE is required');
  if (!['add', 'remove', 'list'].includes(verb)) throw new UserCommandError(`unknown user command "${verb}"; use add, remove or list`);
  if (verb !== 'list') {
    if (!name) throw new UserCommandError(`user ${verb} needs a user name`);
    if (!isValidUserName(name)) throw new UserCommandError(`"${name}" is not a valid user name (no ':' or spaces, at most 255 characters)`);
  }
  return { verb, htpasswd, cost, ...(name !== undefined ? { name } : {}) };
}

async function readPassword(io: UserIo): Promise<string> {
  if (!io.stdinIsTty) {
    const text = await io.readStdin();
    const password = text.replace(/\r?\n$/, '');
    if (password.includes('\n')) throw new UserCommandError('stdin holds more than one line; send only the password');
    return password;
  }
  const first = await io.prompt('Password: ');
  const second = await io.prompt('Repeat password: ');
  if (first !== second) throw new UserCommandError('the passwords differ; nothing was changed');
  return first;
}

export async function runUserCommand(argv: string[], io: UserIo): Promise<void> {
  const args = parseUserArgs(argv);
  const entries = readHtpasswdFile(args.htpasswd);
  if (args.verb === 'list') {
    for (const e of entries) io.out(e.user);
    return;
  }
  const name = args.name as string;
  if (args.verb === 'remove') {
    if (!entries.some((e) => e.user === name)) throw new UserCommandError(`no user "${name}" in ${args.htpasswd}`);
    writeHtpasswdFile(args.htpasswd, entries.filter((e) => e.user !== name));
    io.out(`removed ${name} from ${args.htpasswd}`);
    return;
  }
  const password = await readPassword(io);
  if (password.length === 0) throw new UserCommandError('the password is empty; nothing was changed');
  if (Buffer.byteLength(password) > 72) throw new UserCommandError('bcrypt uses only the first 72 bytes of a password; choose a shorter one');
  const existed = entries.some((e) => e.user === name);
  const created = !existsSync(args.htpasswd);
  writeHtpasswdFile(args.htpasswd, upsertEntry(entries, { user: name, hash: await hashPassword(password, args.cost) }));
  io.out(`${existed ? 'changed the password of' : 'added'} ${name} in ${args.htpasswd}${created ? ' (new file)' : ''}`);
}

/** Terminal I/O for the real command: a no-echo prompt on a TTY, all of stdin otherwise. */
export function processUserIo(): UserIo {
  return {
    stdinIsTty: Boolean(process.stdin.isTTY),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
      return Buffer.concat(chunks).toString('utf8');
    },
    prompt(question) {
      return new Promise((resolve, reject) => {
        const stdin = process.stdin;
        process.stderr.write(question);
        stdin.setRawMode(true);
        stdin.resume();
        let value = '';
        const onData = (buf: Buffer): void => {
          for (const ch of buf.toString('utf8')) {
            if (ch === '\r' || ch === '\n') {
              done();
              resolve(value);
              return;
            }
            if (ch === '\u0003') {
              done();
              reject(new UserCommandError('cancelled'));
              return;
            }
            if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
            else value += ch;
          }
        };
        const done = (): void => {
          stdin.off('data', onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write('\n');
        };
        stdin.on('data', onData);
      });
    },
    out: (line) => process.stdout.write(`${line}\n`),
  };
}
