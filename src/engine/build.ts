/**
 * Building an image through the engine from a folder and a Dockerfile: the build context is packed
 * by dockerode (which applies .dockerignore), the engine's output is turned into one event per step
 * and its lines, and a cancel closes the connection, which stops the build on the engine.
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { engineErrorFrom, EngineError } from './errors';

export interface BuildOptions {
  /** The build context: the folder whose files COPY and ADD can use. */
  contextDir: string;
  /** The Dockerfile, absolute or relative to the context; it must be inside the context. Default `Dockerfile`. */
  dockerfile?: string;
  /** Names to give the image (`host/repo:tag`); the first is the one pushed. */
  tags: string[];
  buildArgs?: Record<string, string>;
  /** A stage name to stop at (`--target`). */
  target?: string;
  /** `linux/amd64`; the engine's own platform when absent. */
  platform?: string;
  /** The network RUN steps get (`--network`, e.g. `none`); the engine's default when absent. */
  networkMode?: string;
  /** Skip the engine's layer cache (`--no-cache`). */
  noCache?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: BuildEvent) => void;
}

export type BuildEvent =
  /** `Step 2/5 : RUN make`: a new step starts. */
  | { type: 'step'; step: number; total: number; instruction: string }
  /** A line the step printed (command output, ` ---> Running in …`). */
  | { type: 'output'; text: string };

export interface BuildResult {
  /** `sha256:…` of the built image. */
  imageId: string;
  tags: string[];
  steps: number;
}

/** A context of more files than this is almost always a missing .dockerignore (node_modules, .git). */
export const MAX_CONTEXT_FILES = 200_000;

/**
 * The context's files, relative with `/`, for dockerode to pack (it filters them through the
 * context's .dockerignore). Folders are walked without following symlinks, as docker does.
 */
export async function contextFiles(contextDir: string, maxFiles = MAX_CONTEXT_FILES): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        out.push(relative(contextDir, full).split(sep).join('/'));
        if (out.length > maxFiles) {
          throw new EngineError('failed', `The build context ${contextDir} has more than ${maxFiles} files; add a .dockerignore that leaves out what the build does not need (node_modules, .git, build output).`);
        }
      }
    }
  };
  await walk(contextDir);
  return out;
}

/** The Dockerfile's path inside the context, `/`-separated; refuses one outside it. */
export function dockerfileInContext(contextDir: string, dockerfile = 'Dockerfile'): string {
  const rel = relative(contextDir, isAbsolute(dockerfile) ? dockerfile : join(contextDir, dockerfile));
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new EngineError('failed', `The Dockerfile ${dockerfile} is outside the build context ${contextDir}; choose a context folder that contains it.`);
  }
  return rel.split(sep).join('/');
}

/** The options dockerode's buildImage takes, from ours. */
export function buildQuery(opts: BuildOptions): Record<string, unknown> {
  return {
    t: opts.tags,
    dockerfile: dockerfileInContext(opts.contextDir, opts.dockerfile),
    rm: true,
    forcerm: true,
    ...(opts.buildArgs && Object.keys(opts.buildArgs).length ? { buildargs: opts.buildArgs } : {}),
    ...(opts.target ? { target: opts.target } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.noCache ? { nocache: true } : {}),
    ...(opts.networkMode ? { networkmode: opts.networkMode } : {}),
    ...(opts.signal ? { abortSignal: opts.signal } : {}),
  };
}

/** Turns the engine's build stream objects into events, remembering the image id and the first error. */
export class BuildTracker {
  imageId: string | undefined;
  steps = 0;
  private error: EngineError | undefined;
  private pending = '';

  constructor(private readonly action: string) {}

  accept(raw: unknown): BuildEvent[] {
    if (typeof raw !== 'object' || raw === null) return [];
    const m = raw as { stream?: string; error?: string; errorDetail?: { message?: string; code?: number }; aux?: { ID?: string } };
    if (m.error || m.errorDetail) {
      this.error ??= engineErrorFrom(this.action, m.errorDetail?.message || m.error || 'unknown error', m.errorDetail?.code);
      return [];
    }
    if (m.aux?.ID) this.imageId = m.aux.ID;
    if (typeof m.stream !== 'string') return [];
    // Output arrives in arbitrary pieces; events are whole lines.
    this.pending += m.stream;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.flatMap((line) => this.line(line));
  }

  private line(line: string): BuildEvent[] {
    const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
    if (step) {
      this.steps = Number(step[1]);
      return [{ type: 'step', step: Number(step[1]), total: Number(step[2]), instruction: step[3] as string }];
    }
    const built = /^Successfully built ([0-9a-f]+)$/.exec(line);
    if (built && !this.imageId) this.imageId = built[1];
    return line.trim() ? [{ type: 'output', text: line }] : [];
  }

  /** Whatever the stream ended with that was not yet a whole line. */
  flush(): BuildEvent[] {
    const rest = this.pending;
    this.pending = '';
    return rest ? this.line(rest) : [];
  }

  failure(): EngineError | undefined {
    return this.error;
  }
}
