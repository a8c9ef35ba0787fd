/**
 * Two tags side by side: which layers they share and which are their own, which config fields
 * differ, and which files were added, removed or changed.
 */
import { formatBytes } from '../oci/format';
import type { FileNode, MergedTree } from './fileTree';
import { describeTarget } from './resolve';
import { cell, type ImageSummary, type LayerRow } from './summary';

export interface FieldChange {
  /** `Cmd`, `Env GREETING`, `Label org.opencontainers.image.version`. */
  field: string;
  a?: string;
  b?: string;
}

export interface FileChange {
  path: string;
  a?: FileNode;
  b?: FileNode;
  /** For a changed path: what differs (`content`, `mode`, `type`, `owner`, `link`). */
  what: string[];
}

export interface LayerComparison {
  /** Layers both images have (by digest), in A's order. */
  shared: LayerRow[];
  onlyA: LayerRow[];
  onlyB: LayerRow[];
  /** How many bottom layers are the same in both: the common base. */
  commonBase: number;
}

export interface FileComparison {
  added: FileChange[];
  removed: FileChange[];
  changed: FileChange[];
}

export interface ImageComparison {
  a: ImageSummary;
  b: ImageSummary;
  layers: LayerComparison;
  config: FieldChange[];
  files?: FileComparison;
}

export function compareLayers(a: LayerRow[], b: LayerRow[]): LayerComparison {
  const inB = new Set(b.map((l) => l.digest));
  const inA = new Set(a.map((l) => l.digest));
  let commonBase = 0;
  while (commonBase < a.length && commonBase < b.length && a[commonBase]?.digest === b[commonBase]?.digest) commonBase++;
  return {
    shared: a.filter((l) => inB.has(l.digest)),
    onlyA: a.filter((l) => !inB.has(l.digest)),
    onlyB: b.filter((l) => !inA.has(l.digest)),
    commonBase,
  };
}

function fieldsOf(s: ImageSummary): Map<string, string> {
  const f = new Map<string, string>();
  const put = (k: string, v: string | string[] | undefined): void => {
    if (v === undefined) return;
    f.set(k, Array.isArray(v) ? JSON.stringify(v) : v);
  };
  put('Created', s.created);
  put('Platform', [s.os, s.architecture, s.variant].filter(Boolean).join('/') || undefined);
  put('Author', s.author);
  put('Entrypoint', s.run.entrypoint);
  put('Cmd', s.run.cmd);
  put('User', s.run.user);
  put('Working dir', s.run.workingDir);
  put('Stop signal', s.run.stopSignal);
  if (s.run.exposedPorts.length) put('Exposed ports', s.run.exposedPorts.join(', '));
  if (s.run.volumes.length) put('Volumes', s.run.volumes.join(', '));
  for (const e of s.run.env) put(`Env ${e.name}`, e.value);
  for (const [k, v] of Object.entries(s.run.labels)) put(`Label ${k}`, v);
  return f;
}

export function compareConfig(a: ImageSummary, b: ImageSummary): FieldChange[] {
  const fa = fieldsOf(a);
  const fb = fieldsOf(b);
  // The run fields in a fixed order, then Env and Label entries by name.
  const fixed = ['Created', 'Platform', 'Author', 'Entrypoint', 'Cmd', 'User', 'Working dir', 'Stop signal', 'Exposed ports', 'Volumes'];
  const rank = (k: string): string => {
    const i = fixed.indexOf(k);
    return i >= 0 ? `0${String(i).padStart(2, '0')}` : `${k.startsWith('Env ') ? 1 : 2}${k}`;
  };
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort((x, y) => (rank(x) < rank(y) ? -1 : rank(x) > rank(y) ? 1 : 0));
  const changes: FieldChange[] = [];
  for (const field of keys) {
    const va = fa.get(field);
    const vb = fb.get(field);
    if (va !== vb) changes.push({ field, ...(va !== undefined ? { a: va } : {}), ...(vb !== undefined ? { b: vb } : {}) });
  }
  return changes;
}

function differences(a: FileNode, b: FileNode): string[] {
  const what: string[] = [];
  if (a.type !== b.type) what.push('type');
  else if (a.type === 'file' && (a.size !== b.size || a.sha256 !== b.sha256)) what.push('content');
  if (a.linkTarget !== b.linkTarget && a.type === b.type) what.push('link');
  if ((a.mode & 0o7777) !== (b.mode & 0o7777)) what.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) what.push('owner');
  return what;
}

/** Files of two merged trees; modification times are left out (every rebuild changes them). */
export function compareFiles(a: MergedTree, b: MergedTree): FileComparison {
  const inA = new Map([...a.walk()].map((w) => [w.path, w.node]));
  const out: FileComparison = { added: [], removed: [], changed: [] };
  for (const { path, node } of b.walk()) {
    const old = inA.get(path);
    if (!old) out.added.push({ path, b: node, what: [] });
    else {
      inA.delete(path);
      const what = differences(old, node);
      if (what.length) out.changed.push({ path, a: old, b: node, what });
    }
  }
  for (const [path, node] of inA) out.removed.push({ path, a: node, what: [] });
  // A folder added or removed lists its contents too; show only the top of each.
  const tops = (list: FileChange[]): FileChange[] => {
    const dirs = new Set<string>();
    return list.filter((c) => {
      const slash = c.path.lastIndexOf('/');
      let covered = false;
      for (let p = slash > 0 ? c.path.slice(0, slash) : ''; p; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') {
        if (dirs.has(p)) {
          covered = true;
          break;
        }
      }
      if ((c.a ?? c.b)?.type === 'directory') dirs.add(c.path);
      return !covered;
    });
  };
  out.added = tops(out.added);
  out.removed = tops(out.removed);
  return out;
}

export function compareImages(a: ImageSummary, b: ImageSummary, trees?: { a: MergedTree; b: MergedTree }): ImageComparison {
  return { a, b, layers: compareLayers(a.layers, b.layers), config: compareConfig(a, b), ...(trees ? { files: compareFiles(trees.a, trees.b) } : {}) };
}

/** Rows of each file list shown; the counts always show in full. */
export const MAX_FILE_ROWS = 2000;

function describeNode(n: FileNode | undefined): string {
  if (!n) return '—';
  if (n.type === 'file') return `${formatBytes(n.size)} ${(n.mode & 0o7777).toString(8)}`;
  if (n.type === 'symlink') return `→ ${n.linkTarget ?? ''}`;
  return n.type;
}

export function renderComparison(registryName: string, c: ImageComparison): string {
  const name = (s: ImageSummary): string => `${registryName}/${describeTarget({ repository: s.image.repository, reference: s.image.reference, ...(s.image.platform ? { platform: s.image.platform } : {}) })}`;
  const out: string[] = [`# ${name(c.a)} ↔ ${name(c.b)}`, '', `A is ${name(c.a)} (${c.a.image.digest}); B is ${name(c.b)} (${c.b.image.digest}).`, ''];
  if (c.a.image.digest === c.b.image.digest) out.push('**Both name the same image manifest: nothing differs.**', '');

  const l = c.layers;
  out.push('## Layers', '', `${l.shared.length} shared (the bottom ${l.commonBase} in the same order), ${l.onlyA.length} only in A, ${l.onlyB.length} only in B. Size: A ${formatBytes(c.a.layersBytes)}, B ${formatBytes(c.b.layersBytes)}.`, '');
  if (l.onlyA.length || l.onlyB.length) {
    out.push('| In | # | Digest | Size | Made by |', '|---|---|---|---|---|');
    for (const [side, rows] of [['A', l.onlyA], ['B', l.onlyB]] as const) {
      for (const r of rows) out.push(`| ${side} | ${r.index + 1} | \`${r.digest}\` | ${formatBytes(r.size)} | ${r.createdBy ? `\`${cell(r.createdBy)}\`` : '—'} |`);
    }
    out.push('');
  }

  out.push('## Config', '');
  if (!c.config.length) out.push('No field differs.', '');
  else out.push('| Field | A | B |', '|---|---|---|', ...c.config.map((f) => `| ${cell(f.field)} | ${f.a !== undefined ? cell(f.a) : '—'} | ${f.b !== undefined ? cell(f.b) : '—'} |`), '');

  if (c.files) {
    const f = c.files;
    out.push('## Files', '', `${f.added.length} added, ${f.removed.length} removed, ${f.changed.length} changed (B against A).`, '');
    const rows: string[] = [];
    for (const x of f.added) rows.push(`| added | \`/${cell(x.path)}\` | — | ${describeNode(x.b)} |`);
    for (const x of f.removed) rows.push(`| removed | \`/${cell(x.path)}\` | ${describeNode(x.a)} | — |`);
    for (const x of f.changed) rows.push(`| ${x.what.join(', ')} | \`/${cell(x.path)}\` | ${describeNode(x.a)} | ${describeNode(x.b)} |`);
    if (rows.length) {
      out.push('| Change | Path | A | B |', '|---|---|---|---|', ...rows.slice(0, MAX_FILE_ROWS));
      if (rows.length > MAX_FILE_ROWS) out.push('', `…and ${rows.length - MAX_FILE_ROWS} more.`);
    }
    out.push('');
  } else out.push('## Files', '', 'Files were not compared.', '');
  return out.join('\n');
}
