/**
 * Watches a process tree for network traffic that leaves 127.0.0.1, by running it under strace.
 *
 * Only connect() and the datagram sends are traced (`--seccomp-bpf`), so the traced program runs at
 * full speed everywhere else. What counts as leaving the machine:
 *
 * - a connect() to an IPv4 or IPv6 address outside loopback (a TCP connection, or a UDP socket aimed
 *   at a host, as the C library's resolver does with the name server before it asks);
 * - a DNS query for any name but `localhost`, read from the datagrams sent (so a lookup through a
 *   resolver on 127.0.0.53 is caught too, and the report names the host that was asked for).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Outbound {
  /** The process as strace names it: `pid<comm>`. */
  process: string;
  /** `connect 10.0.0.1:53` or `DNS open-vsx.org (A)`. */
  what: string;
}

/** Options for strace that write what the traced tree does to `file`. */
export function straceArgs(file: string): string[] {
  return ['-f', '-qq', '--seccomp-bpf', '-Y', '-x', '-s', '512', '-e', 'signal=none',
    '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o', file];
}

let checked: string | undefined;

/**
 * Throws, saying what to do, when strace is missing or may not trace here (a container without
 * CAP_SYS_PTRACE). Checked once per process.
 */
export function requireStrace(): void {
  if (checked === 'ok') return;
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    throw new Error(`watching for traffic beyond 127.0.0.1 needs strace, allowed to trace (${r.error?.message ?? r.stderr.trim()}): `
      + 'install it with `apt-get install strace`; in a container, add the SYS_PTRACE capability; '
      + 'and run the tests themselves outside strace or a debugger, since a traced process cannot trace');
  }
  checked = 'ok';
}

/** Decodes a string as strace prints it with -x (`\xNN`, octal and C escapes). */
function unescape(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c !== '\\') {
      out.push(...Buffer.from(c, 'latin1'));
      continue;
    }
    const n = s[i + 1] ?? '';
    if (n === 'x') {
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1))?.[0] ?? '0';
      out.push(parseInt(oct, 8));
      i += oct.length;
    } else {
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8 };
      out.push(simple[n] ?? n.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(out);
}

const QUERY_TYPES: Record<number, string> = { 1: 'A', 28: 'AAAA', 65: 'HTTPS', 33: 'SRV', 16: 'TXT', 12: 'PTR', 5: 'CNAME' };

/** The name a DNS query asks for, or undefined when `b` is not a standard query. */
export function dnsQuestion(b: Buffer): { name: string; type: string } | undefined {
  if (b.length < 17) return undefined;
  const flags = b.readUInt16BE(2);
  // A query (QR clear, opcode 0) with one question and no answers.
  if ((flags & 0xf800) !== 0 || b.readUInt16BE(4) !== 1 || b.readUInt16BE(6) !== 0 || b.readUInt16BE(8) !== 0) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    const len = b[i];
    if (len === undefined || len > 63) return undefined;
    if (len === 0) break;
    if (i + 1 + len > b.length) return undefined;
    labels.push(b.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  // The terminating zero is followed by the query type and class, two bytes each.
  if (labels.length === 0 || i + 4 >= b.length) return undefined;
  const type = b.readUInt16BE(i + 1);
  return { name: labels.join('.'), type: QUERY_TYPES[type] ?? String(type) };
}

function isLoopback(address: string): boolean {
  if (/^127\./.test(address) || address === '0.0.0.0') return true;
  const v6 = address.toLowerCase();
  return v6 === '::1' || v6 === '::' || /^::ffff:127\./.test(v6) || v6 === '::ffff:0.0.0.0';
}

export interface ParseOptions {
  /** `address:port` connects that send nothing and are not counted (e.g. a browser's route probe). */
  ignoreConnects?: string[];
}

/** Everything in an strace log (see straceArgs) that left or tried to leave 127.0.0.1, in order. */
export function outboundInTrace(text: string, opts: ParseOptions = {}): Outbound[] {
  const out: Outbound[] = [];
  const pending = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const m = /^(\d+(?:<[^>]*>)?) (.*)$/.exec(raw);
    if (!m?.[1] || m[2] === undefined) continue;
    const proc = m[1];
    let call = m[2];
    // A call interrupted by another thread's line is printed in two halves; the arguments are in the first.
    if (call.endsWith('<unfinished ...>')) {
      pending.set(proc, call);
      continue;
    }
    if (call.startsWith('<... ')) {
      call = pending.get(proc) ?? '';
      pending.delete(proc);
    }
    if (call.startsWith('connect(')) {
      const v4 = /sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/.exec(call);
      const v6 = /sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)"/.exec(call);
      const hit = v4 ?? v6;
      if (!hit?.[1] || !hit[2] || isLoopback(hit[2])) continue;
      const where = v6 ? `[${hit[2]}]:${hit[1]}` : `${hit[2]}:${hit[1]}`;
      if (opts.ignoreConnects?.includes(where)) continue;
      out.push({ process: proc, what: `connect ${where}` });
    } else if (/^send(to|msg|mmsg)\(/.test(call)) {
      for (const s of call.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
        const q = dnsQuestion(unescape(s[1] ?? ''));
        if (q && q.name.toLowerCase() !== 'localhost') out.push({ process: proc, what: `DNS ${q.name} (${q.type})` });
      }
    }
  }
  return out;
}

/** Reads an strace log; a tree that never started leaves none, which is no traffic. */
export function outboundInTraceFile(file: string, opts: ParseOptions = {}): Outbound[] {
  return existsSync(file) ? outboundInTrace(readFileSync(file, 'latin1'), opts) : [];
}

/** One line per distinct attempt with how often it happened, for a failure message. */
export function summarize(found: Outbound[]): string[] {
  const counts = new Map<string, number>();
  for (const o of found) {
    // The thread's name, not its id: the same attempt from two threads is one line.
    const key = `${o.what} from ${o.process.replace(/\d+(?=<)/, "")}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => (n > 1 ? `${k} (${n}×)` : k));
}
