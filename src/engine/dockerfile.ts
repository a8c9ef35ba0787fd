/**
 * What a build needs to ask before it starts: the Dockerfile's build arguments (with defaults) and
 * its stages (for a target). Reads the Dockerfile grammar as BuildKit does: parser directives
 * (`# escape=`), line continuations, comments inside continuations, heredocs, case-insensitive
 * instructions and several `ARG`s on one line.
 */

export interface DockerfileArg {
  name: string;
  /** As written after `=`, quotes removed; undefined when the ARG has no default. */
  defaultValue?: string;
  /** `global` before the first FROM (usable in FROM lines), else the stage's index. */
  scope: 'global' | number;
  line: number;
}

export interface DockerfileStage {
  index: number;
  /** `AS name`, lower-cased as BuildKit compares them. */
  name?: string;
  base: string;
  platform?: string;
  line: number;
}

export interface DockerfileInfo {
  args: DockerfileArg[];
  stages: DockerfileStage[];
  /** Problems a build would fail on, said plainly (e.g. no FROM). */
  problems: string[];
}

/** Arguments the builder fills in itself; asking for them would only confuse. */
export const PREDEFINED_ARGS: ReadonlySet<string> = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT',
  'BUILDKIT_INLINE_CACHE', 'BUILDKIT_SYNTAX', 'BUILDKIT_MULTI_PLATFORM', 'SOURCE_DATE_EPOCH',
]);

interface Instruction {
  keyword: string;
  args: string;
  line: number;
  /** The escape character in force (`\\` or a backtick). */
  escape: string;
}

/** Splits the text into instructions, joining continuations and skipping comments and heredoc bodies. */
export function instructions(text: string): Instruction[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let i = 0;
  // Parser directives: only at the very top, before any comment that is not a directive or any blank line.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z_]+)\s*=\s*(.*?)\s*$/.exec(lines[i] as string);
    if (!m) break;
    if ((m[1] as string).toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
  }
  const out: Instruction[] = [];
  let current: { parts: string[]; line: number } | undefined;
  const heredocs: string[] = [];
  for (; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (heredocs.length) {
      const end = heredocs[0] as string;
      if (raw.replace(/^\t+/, '') === end) heredocs.shift();
      continue;
    }
    const trimmed = raw.trim();
    if (!current && (trimmed === '' || trimmed.startsWith('#'))) continue;
    // Inside a continuation, comment and empty lines are skipped, as BuildKit does.
    if (current && (trimmed.startsWith('#') || trimmed === '')) continue;
    const continued = trimmed.endsWith(escape) && trimmed.length > 0;
    const body = continued ? trimmed.slice(0, -1) : trimmed;
    current ??= { parts: [], line: i + 1 };
    current.parts.push(body);
    if (continued && i < lines.length - 1) continue;
    const whole = current.parts.join(' ').trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(whole);
    if (m) {
      out.push({ keyword: (m[1] as string).toUpperCase(), args: m[2] as string, line: current.line, escape });
      for (const h of whole.matchAll(/<<-?\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\1/g)) heredocs.push(h[2] as string);
    }
    current = undefined;
  }
  return out;
}

/** Splits `A=1 B="two words" C` into words, honouring quotes and the escape character. */
function words(text: string, escape = '\\'): string[] {
  const out: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === escape && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === escape && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

export function parseDockerfile(text: string): DockerfileInfo {
  const args: DockerfileArg[] = [];
  const stages: DockerfileStage[] = [];
  const problems: string[] = [];
  for (const ins of instructions(text)) {
    if (ins.keyword === 'FROM') {
      const parts = words(ins.args, ins.escape);
      let platform: string | undefined;
      while (parts[0]?.startsWith('--')) {
        const flag = parts.shift() as string;
        if (flag.startsWith('--platform=')) platform = flag.slice('--platform='.length);
      }
      const base = parts[0];
      if (!base) {
        problems.push(`Line ${ins.line}: FROM names no image.`);
        continue;
      }
      const as = parts[1]?.toLowerCase() === 'as' ? parts[2]?.toLowerCase() : undefined;
      stages.push({ index: stages.length, base, line: ins.line, ...(as ? { name: as } : {}), ...(platform ? { platform } : {}) });
    } else if (ins.keyword === 'ARG') {
      const scope = stages.length ? stages.length - 1 : 'global';
      for (const w of words(ins.args, ins.escape)) {
        const eq = w.indexOf('=');
        const name = eq < 0 ? w : w.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          problems.push(`Line ${ins.line}: "${name}" is not a valid ARG name.`);
          continue;
        }
        args.push({ name, scope, line: ins.line, ...(eq >= 0 ? { defaultValue: w.slice(eq + 1) } : {}) });
      }
    }
  }
  if (!stages.length) problems.push('The Dockerfile has no FROM instruction, so there is nothing to build.');
  return { args, stages, problems };
}

/**
 * The arguments worth asking for: each name once, predefined ones left out, a default from its
 * first declaration with one (a later stage may redeclare a global ARG without a default to use it).
 */
export function askableArgs(info: DockerfileInfo): Array<{ name: string; defaultValue?: string }> {
  const byName = new Map<string, { name: string; defaultValue?: string }>();
  for (const a of info.args) {
    if (PREDEFINED_ARGS.has(a.name)) continue;
    const known = byName.get(a.name);
    if (!known) byName.set(a.name, { name: a.name, ...(a.defaultValue !== undefined ? { defaultValue: a.defaultValue } : {}) });
    else if (known.defaultValue === undefined && a.defaultValue !== undefined) known.defaultValue = a.defaultValue;
  }
  return [...byName.values()];
}
