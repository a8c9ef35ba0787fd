/**
 * Garbage collection as distribution describes it: mark every blob a manifest references (manifests
 * themselves included), then sweep the blobs nobody marked. With `deleteUntagged`, manifests that
 * no tag reaches — directly, as a child of a tagged index, or as a referrer of a kept manifest —
 * are removed first. Upload sessions idle for longer than `uploadIdleMs` are removed too. Stop-the-world:
 * the caller holds the root's lock (filesystem), or every registry on the bucket is read-only (S3), so no
 * server is writing.
 */
import { parseDigest, type ParsedDigest } from '../oci/digest';
import { Layout, parseLink } from './layout';
import { parseManifestJson } from './manifest';
import { listNames, orUndefined, type StorageDriver } from './storage/driver';
import { uploadActivity, walkRepositories } from './storage/linkStorage';

export interface GcOptions {
  dryRun: boolean;
  deleteUntagged: boolean;
  /** Upload sessions whose data has not changed for longer are abandoned and removed (limits.uploadIdleTimeout). */
  uploadIdleMs: number;
  /** Every upload session counts as abandoned, however recent: for a root no server uses (its lock is held). */
  allUploads?: boolean;
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
async function listRepositories(driver: StorageDriver, layout: Layout, marker = '_manifests'): Promise<string[]> {
  return (await walkRepositories(driver, layout, marker)).sort();
}

async function listDigests(driver: StorageDriver, dir: string): Promise<ParsedDigest[]> {
  const out: ParsedDigest[] = [];
  for (const alg of await listNames(driver, dir)) {
    for (const hex of await listNames(driver, `${dir}/${alg}`)) {
      const d = parseDigest(`${alg}:${hex}`);
      // distribution deletes a revision or layer link by removing the `link` file and leaves its folder.
      if (!('problem' in d) && (await orUndefined(driver.stat(`${dir}/${alg}/${hex}/link`)))) out.push(d);
    }
  }
  return out;
}

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/'));

async function removeIfThere(driver: StorageDriver, path: string): Promise<void> {
  await orUndefined(driver.delete(path));
}

/** Runs on any driver; nothing may write the storage meanwhile (a lock, or registries in read-only mode). */
export async function runGc(driver: StorageDriver, opts: GcOptions): Promise<GcResult> {
  const layout = new Layout('/');
  const marked = new Set<string>();
  const refsCache = new Map<string, ManifestRefs>();
  const refsOf = async (digest: string): Promise<ManifestRefs> => {
    const cached = refsCache.get(digest);
    if (cached) return cached;
    const d = parseDigest(digest);
    let refs: ManifestRefs = { children: [], blobs: [] };
    if (!('problem' in d)) {
      try {
        refs = manifestReferences(await driver.getContent(layout.blobData(d)));
      } catch {
        /* a revision whose blob is gone references nothing */
      }
    }
    refsCache.set(digest, refs);
    return refs;
  };
  const verb = opts.dryRun ? 'would remove' : 'removing';
  let manifestsRemoved = 0;

  for (const repo of await listRepositories(driver, layout)) {
    const revisions = await listDigests(driver, layout.revisionsDir(repo));
    const revisionSet = new Set(revisions.map((r) => r.digest));
    let keep: Set<string>;
    if (opts.deleteUntagged) {
      keep = new Set();
      const queue: string[] = [];
      for (const tag of await listNames(driver, layout.tagsDir(repo))) {
        const link = await orUndefined(driver.getContent(layout.tagCurrentLink(repo, tag)));
        const d = link === undefined ? undefined : parseLink(link.toString('utf8'));
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
        if (!opts.dryRun) await removeIfThere(driver, parentOf(layout.revisionLink(repo, r)));
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
  for (const alg of await listNames(driver, layout.blobsDir)) {
    for (const prefix of await listNames(driver, `${layout.blobsDir}/${alg}`)) {
      for (const hex of await listNames(driver, `${layout.blobsDir}/${alg}/${prefix}`)) {
        const d = parseDigest(`${alg}:${hex}`);
        if ('problem' in d) continue;
        if (marked.has(d.digest)) {
          blobsKept++;
          continue;
        }
        const size = (await orUndefined(driver.stat(layout.blobData(d))))?.size ?? 0;
        opts.print(`${verb} blob ${d.digest} (${size} bytes)`);
        blobsRemoved++;
        bytesRemoved += size;
        removedBlobs.add(d.digest);
        if (!opts.dryRun) await removeIfThere(driver, layout.blobDir(d));
      }
    }
  }
  if (!opts.dryRun && removedBlobs.size > 0) {
    // Links to removed blobs would only answer 404 later; drop them with the blobs.
    for (const repo of await listRepositories(driver, layout)) {
      for (const d of await listDigests(driver, layout.layersDir(repo))) {
        if (removedBlobs.has(d.digest)) await removeIfThere(driver, parentOf(layout.layerLink(repo, d)));
      }
    }
  }
  const uploads = await sweepUploads(driver, layout, opts, verb);
  const summary = `${opts.dryRun ? 'dry run: would remove' : 'removed'} ${manifestsRemoved} manifests and ${blobsRemoved} blobs (${bytesRemoved} bytes) and ${uploads.uploadsRemoved} abandoned uploads (${uploads.uploadBytesRemoved} bytes); ${blobsKept} blobs kept, ${uploads.uploadsKept} recent uploads kept`;
  opts.print(summary);
  return { manifestsRemoved, blobsRemoved, bytesRemoved, blobsKept, ...uploads };
}

/**
 * Upload sessions take space outside the blobs: an abandoned one (no byte written for longer than
 * `uploadIdleMs`) is reported and removed; a recent one may still be resumed once a server runs again.
 */
async function sweepUploads(driver: StorageDriver, layout: Layout, opts: GcOptions, verb: string): Promise<{ uploadsRemoved: number; uploadBytesRemoved: number; uploadsKept: number }> {
  const now = opts.nowMs ?? Date.now();
  let uploadsRemoved = 0;
  let uploadBytesRemoved = 0;
  let uploadsKept = 0;
  for (const repo of await listRepositories(driver, layout, '_uploads')) {
    for (const id of await listNames(driver, layout.uploadsDir(repo))) {
      const dir = layout.uploadDir(repo, id);
      const dirInfo = await orUndefined(driver.stat(dir));
      if (!dirInfo?.isDir) continue;
      // An upload that never got its data file (a crash right after it started) is as old as its folder.
      const data = await uploadActivity(driver, layout, repo, id);
      const lastWriteMs = data?.lastWriteMs ?? dirInfo.modTimeMs;
      const idleMs = now - lastWriteMs;
      if (!opts.allUploads && idleMs <= opts.uploadIdleMs) {
        uploadsKept++;
        continue;
      }
      const size = data?.size ?? 0;
      opts.print(`${verb} abandoned upload ${repo}/${id} (${size} bytes, idle ${Math.round(idleMs / 1000)} s)`);
      uploadsRemoved++;
      uploadBytesRemoved += size;
      if (!opts.dryRun) await removeIfThere(driver, dir);
    }
  }
  return { uploadsRemoved, uploadBytesRemoved, uploadsKept };
}
