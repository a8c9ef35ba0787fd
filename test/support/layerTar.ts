/**
 * Layer archives with every entry kind a real image has: folders, files, symlinks, hard links,
 * whiteouts and opaque markers; written with tar-stream so that paths longer than ustar's 100
 * bytes get pax headers as real tools write them.
 */
import { pack } from 'tar-stream';

export type TarEntry =
  | { path: string; type?: 'file'; content: string | Buffer; mode?: number }
  | { path: string; type: 'directory'; mode?: number }
  /** A hard link's header carries the mode of the file it names, as tar writes it. */
  | { path: string; type: 'symlink' | 'link'; target: string; mode?: number }
  /** `.wh.<name>` beside what it removes. */
  | { path: string; type: 'whiteout' }
  /** `.wh..wh..opq` inside the folder it makes opaque. */
  | { path: string; type: 'opaque' };

const MTIME = new Date('2024-01-01T00:00:00Z');

export async function layerTar(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    if (e.type === 'directory') p.entry({ name: `${e.path}/`, type: 'directory', mode: e.mode ?? 0o755, mtime: MTIME });
    else if (e.type === 'symlink' || e.type === 'link') p.entry({ name: e.path, type: e.type, linkname: e.target, mode: e.mode ?? (e.type === 'symlink' ? 0o777 : 0o644), mtime: MTIME });
    else if (e.type === 'whiteout') {
      const slash = e.path.lastIndexOf('/');
      p.entry({ name: `${e.path.slice(0, slash + 1)}.wh.${e.path.slice(slash + 1)}`, mode: 0o644, mtime: MTIME }, '');
    } else if (e.type === 'opaque') p.entry({ name: `${e.path}/.wh..wh..opq`, mode: 0o644, mtime: MTIME }, '');
    else if ('content' in e) p.entry({ name: e.path, mode: e.mode ?? 0o644, mtime: MTIME }, e.content);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
