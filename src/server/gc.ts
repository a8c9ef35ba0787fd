/**
 * Garbage collection as distribution describes it: mark every blob a manifest references (manifests
 * themselves included), then sweep the blobs nobody marked. With `deleteUntagged`, manifests that
 * no tag reaches — directly, as a child of a tagged index, or as a referrer of a kept manifest —
 * are removed first. Upload sessions idle for longer than `uploadIdleMs` are removed too. Stop-the-world: the caller holds the root's lock, so no server is writing.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDigest, type ParsedDigest } from '../oci/digest';
import { exists, readTextOrUndefined, readdirOrEmpty, removeTree } from './fsutil';
import { Layout, parseLink } from './layout';
import { parseManifestJson } from './manifest';

export interface GcOptions {
  dryRun: boolean;
  deleteUntagged: boolean;
  /** Upload sessions whose data has not changed for longer are abandoned and removed (limits.uploadIdleTimeout). */
  uploadIdleMs: number;
  print: (line: string) => void;
  nowMs?: number;
}

export interface GcResult {
  manifestsRemoved: number;
  blobsRemoved: number;
  bytesRemoved: number;
  blobsKept: number;
  uploadsRemoved: number;
  uploadBytesRemoved: number;
  uploadsKept: number;
}

interface ManifestRefs {
  children: string[];
  blobs: string[];
  subject?: string;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map((d) => (d as { digest?: unknown } | null)?.digest).filter((d): d is string => typeof d === 'string') : [];
}

/** What a stored manifest points at; unknown formats point at nothing but are kept themselves. */
export function manifestReferences(bytes: Buffer): ManifestRefs {
  let doc: Record<string, unknown>;
  try {
    doc = parseManifestJson(bytes) as Record<string, unknown>;
  } catch {
    return { children: [], blobs: [] };
  }
  if (typeof doc !== 'object' || doc === null) return { children: [], blobs: [] };
  const config = (doc['config'] as { digest?: unknown } | undefined)?.digest;
  const subject = (doc['subject'] as { digest?: unknown } | undefined)?.digest;
  // Docker schema 1 names its layers in fsLayers[].blobSum.
  const schema1 = Array.isArray(doc['fsLayers']) ? (doc['fsLayers'] as { blobSum?: unknown }[]).map((l) => l?.blobSum).filter((d): d is string => typeof d === 'string') : [];
  return {
    children: strings(doc['manifests']),
    blobs: [...(typeof config === 'string' ? [config] : []), ...strings(doc['layers']), ...schema1],
    ...(typeof subject === 'string' ? { subject } : {}),
  };
}

/** Repositories holding a `marker` folder: `_manifests` for content, `_uploads` for upload sessions. */
async function listRepositories(layout: Layout, marker = '_manifests'): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdirOrEmpty(dir);
    if (prefix && entries.some((e) => e.name === marker && e.isDirectory())) found.push(prefix);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('_')) await walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name);
  };
  await walk(layout.repositoriesDir, '');
  return found.sort();
}

async function listDigests(dir: string): Promise<ParsedDigest[]> {
  const out: ParsedDigest[] = [];
  for (const alg of await readdirOrEmpty(dir)) {
    for (const entry of await readdirOrEmpty(join(dir, alg.name))) {
      const d = parseDigest(`${alg.name}:${entry.name}`);
      // distribution deletes a revision or layer link by removing the `link` file and leaves its folder.
      if (!('problem' in d) && (await exists(join(dir, alg.name, entry.name, 'link')))) out.push(d);
    }
  }
  return out;
}

export async function runGc(root: string, opts: GcOptions): Promise<GcResult> {
  const layout = new Layout(root);
  const marked = new Set<string>();
  const refsCache = new Map<string, ManifestRefs>();
  const refsOf = async (digest: string): Promise<ManifestRefs> => {
    const cached = refsCache.get(digest);
    if (cached) return cached;
    const d = parseDigest(digest);
    let refs: ManifestRefs = { children: [], blobs: [] };
    if (!('problem' in d)) {
      try {
        refs = manifestReferences(await readFile(layout.blobData(d)));
      } catch {
        /* a revision whose blob is gone references nothing */
      }
    }
    refsCache.set(digest, refs);
    return refs;
  };
  const verb = opts.dryRun ? 'would remove' : 'removing';
  let manifestsRemoved = 0;

  for (const repo of await listRepositories(layout)) {
    const revisions = await listDigests(layout.revisionsDir(repo));
    const revisionSet = new Set(revisions.map((r) => r.digest));
    let keep: Set<string>;
    if (opts.deleteUntagged) {
      keep = new Set();
      const queue: string[] = [];
      for (const tag of await readdirOrEmpty(layout.tagsDir(repo))) {
        const link = await readTextOrUndefined(layout.tagCurrentLink(repo, tag.name));
        const d = link === undefined ? undefined : parseLink(link);
        if (d && revisionSet.has(d.digest)) queue.push(d.digest);
      }
      // Tagged manifests, the children of kept indexes, and referrers of kept manifests survive.
      const subjects = new Map<string, string[]>();
      for (const r of revisions) {
        const subject = (await refsOf(r.digest)).subject;
        if (subject) subjects.set(subject, [...(subjects.get(subject) ?? []), r.digest]);
      }
      while (queue.length > 0) {
        const digest = queue.pop() as string;
        if (keep.has(digest)) continue;
        keep.add(digest);
        const refs = await refsOf(digest);
        for (const child of [...refs.children, ...(subjects.get(digest) ?? [])]) if (revisionSet.has(child) && !keep.has(child)) queue.push(child);
      }
      for (const r of revisions) {
        if (keep.has(r.digest)) continue;
        opts.print(`${verb} untagged manifest ${repo}@${r.digest}`);
        manifestsRemoved++;
        if (!opts.dryRun) await removeTree(join(layout.revisionLink(repo, r), '..'));
      }
    } else {
      keep = revisionSet;
    }
    for (const digest of keep) {
      marked.add(digest);
      const refs = await refsOf(digest);
      for (const b of [...refs.blobs, ...refs.children]) marked.add(b);
    }
  }

  let blobsRemoved = 0;
  let bytesRemoved = 0;
  let blobsKept = 0;
  const removedBlobs = new Set<string>();
  for (const alg of await readdirOrEmpty(layout.blobsDir)) {
    for (const prefix of await readdirOrEmpty(join(layout.blobsDir, alg.name))) {
      for (const entry of await readdirOrEmpty(join(layout.blobsDir, alg.name, prefix.name))) {
        const d = parseDigest(`${alg.name}:${entry.name}`);
        if ('problem' in d) continue;
        if (marked.has(d.digest)) {
          blobsKept++;
          continue;
        }
        const size = await stat(layout.blobData(d)).then((s) => s.size, () => 0);
        opts.print(`${verb} blob ${d.digest} (${size} bytes)`);
        blobsRemoved++;
        bytesRemoved += size;
        removedBlobs.add(d.digest);
        if (!opts.dryRun) await removeTree(layout.blobDir(d));
      }
    }
  }
  if (!opts.dryRun && removedBlobs.size > 0) {
    // Links to removed blobs would only answer 404 later; drop them with the blobs.
    for (const repo of await listRepositories(layout)) {
      for (const d of await listDigests(layout.layersDir(repo))) {
        if (removedBlobs.has(d.digest)) await rm(join(layout.layerLink(repo, d), '..'), { recursive: true, force: true });
      }
    }
  }
  const uploads = await sweepUploads(layout, opts, verb);
  const summary = `${opts.dryRun ? 'dry run: would remove' : 'removed'} ${manifestsRemoved} manifests and ${blobsRemoved} blobs (${bytesRemoved} bytes) and ${uploads.uploadsRemoved} abandoned uploads (${uploads.uploadBytesRemoved} bytes); ${blobsKept} blobs kept, ${uploads.uploadsKept} recent uploads kept`;
  opts.print(summary);
  return { manifestsRemoved, blobsRemoved, bytesRemoved, blobsKept, ...uploads };
}

/**
 * Upload sessions take space outside the blobs: an abandoned one (no byte written for longer than
 * `uploadIdleMs`) is reported and removed; a recent one may still be resumed once a server runs again.
 */
async function sweepUploads(layout: Layout, opts: GcOptions, verb: string): Promise<{ uploadsRemoved: number; uploadBytesRemoved: number; uploadsKept: number }> {
  const now = opts.nowMs ?? Date.now();
  let uploadsRemoved = 0;
  let uploadBytesRemoved = 0;
  let uploadsKept = 0;
  for (const repo of await listRepositories(layout, '_uploads')) {
    for (const entry of await readdirOrEmpty(layout.uploadsDir(repo))) {
      if (!entry.isDirectory()) continue;
      const dir = join(layout.uploadsDir(repo), entry.name);
      const data = await stat(join(dir, 'data')).catch(() => undefined);
      const lastWriteMs = data?.mtimeMs ?? (await stat(dir).then((st) => st.mtimeMs, () => 0));
      const idleMs = now - lastWriteMs;
      if (idleMs <= opts.uploadIdleMs) {
        uploadsKept++;
        continue;
      }
      const size = data?.size ?? 0;
      opts.print(`${verb} abandoned upload ${repo}/${entry.name} (${size} bytes, idle ${Math.round(idleMs / 1000)} s)`);
      uploadsRemoved++;
      uploadBytesRemoved += size;
      if (!opts.dryRun) await removeTree(dir);
    }
  }
  return { uploadsRemoved, uploadBytesRemoved, uploadsKept };
}
