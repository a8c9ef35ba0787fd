/**
 * The image page: what the config says (entrypoint, cmd, env, ports, user, labels, created), the
 * history with the command that made each layer, the layers with their compressed sizes, and the
 * total, read straight from the registry.
 */
import type { CallOptions, Registry } from '../client';
import { RegistryError } from '../client/errors';
import { MediaType } from '../oci/mediaTypes';
import type { Descriptor } from '../oci/types';
import { formatPlatform } from '../oci/types';
import { formatBytes } from '../oci/format';
import { describeTarget, resolveImage, type ImageTarget, type ResolvedImage } from './resolve';

/** Configs are a few KiB; an image with a huge history is still far below this. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  env: Array<{ name: string; value: string }>;
  /** `80/tcp`, sorted. */
  exposedPorts: string[];
  volumes: string[];
  user?: string;
  workingDir?: string;
  stopSignal?: string;
  labels: Record<string, string>;
}

export interface HistoryStep {
  /** The command as recorded (`RUN /bin/sh -c …` with buildkit's prefixes tidied). */
  createdBy: string;
  created?: string;
  comment?: string;
  /** The layer this step made; absent for steps that made none (ENV, CMD…). */
  layer?: Descriptor & { index: number };
}

export interface LayerRow extends Descriptor {
  index: number;
  /** `rootfs.diff_ids[index]`: the digest of the uncompressed content. */
  diffId?: string;
  /** The step that made it, when the history says. */
  createdBy?: string;
}

export interface ImageSummary {
  image: ResolvedImage;
  configDigest: string;
  configMediaType: string;
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  author?: string;
  run: ImageRunConfig;
  history: HistoryStep[];
  layers: LayerRow[];
  /** Sum of the layers' compressed sizes. */
  layersBytes: number;
  /** Manifest + config + layers, as stored in the registry. */
  totalBytes: number;
  /** Whether the history lines up with the layers (same number of steps that made a layer). */
  historyMatchesLayers: boolean;
  /** The whole config document. */
  rawConfig: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** buildkit writes `RUN /bin/sh -c …  # buildkit`; the classic builder `/bin/sh -c #(nop)  CMD […]`. */
export function tidyCommand(createdBy: string): string {
  let s = createdBy.trim();
  s = s.replace(/\s*# buildkit$/, '');
  const nop = /^\/bin\/sh -c #\(nop\)\s*/.exec(s);
  if (nop) return s.slice(nop[0].length).trim();
  if (s.startsWith('/bin/sh -c ')) return `RUN ${s}`;
  return s;
}

export function runConfigOf(config: Json): ImageRunConfig {
  const c = obj(config['config']);
  const env = (strings(c['Env']) ?? []).map((e) => {
    const eq = e.indexOf('=');
    return eq < 0 ? { name: e, value: '' } : { name: e.slice(0, eq), value: e.slice(eq + 1) };
  });
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(c['Labels']))) if (typeof v === 'string') labels[k] = v;
  const entrypoint = strings(c['Entrypoint']);
  const cmd = strings(c['Cmd']);
  const user = str(c['User']);
  const workingDir = str(c['WorkingDir']);
  const stopSignal = str(c['StopSignal']);
  return {
    env, labels,
    exposedPorts: Object.keys(obj(c['ExposedPorts'])).sort(),
    volumes: Object.keys(obj(c['Volumes'])).sort(),
    ...(entrypoint ? { entrypoint } : {}), ...(cmd ? { cmd } : {}), ...(user ? { user } : {}),
    ...(workingDir ? { workingDir } : {}), ...(stopSignal ? { stopSignal } : {}),
  };
}

/**
 * Pairs history steps with layers: each step not marked `empty_layer` made the next layer, in
 * order (image-spec's rule). When the counts disagree (hand-made images, squashed ones), the steps
 * still show and `matches` is false, so a reader is not told a wrong command made a layer.
 */
export function alignHistory(historyJson: unknown, layers: Descriptor[], diffIds: string[]): { history: HistoryStep[]; layers: LayerRow[]; matches: boolean } {
  const entries = Array.isArray(historyJson) ? historyJson.map(obj) : [];
  const makers = entries.filter((h) => h['empty_layer'] !== true).length;
  const matches = makers === layers.length;
  const rows: LayerRow[] = layers.map((l, index) => ({ ...l, index, ...(diffIds[index] ? { diffId: diffIds[index] } : {}) }));
  let next = 0;
  const history = entries.map((h): HistoryStep => {
    const createdBy = tidyCommand(str(h['created_by']) ?? '');
    const created = str(h['created']);
    const comment = str(h['comment']);
    const step: HistoryStep = { createdBy, ...(created ? { created } : {}), ...(comment ? { comment } : {}) };
    if (h['empty_layer'] !== true && matches) {
      const row = rows[next++];
      if (row) {
        step.layer = row;
        row.createdBy = createdBy;
      }
    }
    return step;
  });
  return { history, layers: rows, matches };
}

export async function readConfigJson(registry: Registry, repository: string, config: Descriptor, opts: CallOptions = {}): Promise<Json> {
  const bytes = await registry.getBlobBytes(repository, config.digest, MAX_CONFIG_BYTES, opts);
  try {
    return obj(JSON.parse(bytes.toString('utf8')));
  } catch (e) {
    throw new RegistryError({ kind: 'invalid-response', host: registry.name, cause: e, message: `The config ${config.digest} of ${repository} is not JSON.` });
  }
}

export function summarise(image: ResolvedImage, config: Json): ImageSummary {
  const m = image.manifest;
  const rootfs = obj(config['rootfs']);
  const aligned = alignHistory(config['history'], m.layers, strings(rootfs['diff_ids']) ?? []);
  const layersBytes = m.layers.reduce((sum, l) => sum + l.size, 0);
  const created = str(config['created']);
  const os = str(config['os']);
  const architecture = str(config['architecture']);
  const variant = str(config['variant']);
  const author = str(config['author']);
  return {
    image, configDigest: m.config.digest, configMediaType: m.config.mediaType,
    run: runConfigOf(config), history: aligned.history, layers: aligned.layers, historyMatchesLayers: aligned.matches,
    layersBytes, totalBytes: image.manifestBytes + m.config.size + layersBytes, rawConfig: config,
    ...(created ? { created } : {}), ...(os ? { os } : {}), ...(architecture ? { architecture } : {}),
    ...(variant ? { variant } : {}), ...(author ? { author } : {}),
  };
}

/** Resolves `target` and reads its config: everything the image page shows. */
export async function imageSummary(registry: Registry, target: ImageTarget, opts: CallOptions = {}): Promise<ImageSummary> {
  const image = await resolveImage(registry, target, opts);
  const type = image.manifest.config.mediaType;
  if (type !== MediaType.ociConfig && type !== MediaType.dockerConfig) {
    throw new RegistryError({
      kind: 'unsupported', host: registry.name,
      message: `${describeTarget(target)} is not a container image (its config is ${type}${image.manifest.artifactType ? `, artifact type ${image.manifest.artifactType}` : ''}).`,
    });
  }
  return summarise(image, await readConfigJson(registry, image.repository, image.manifest.config, opts));
}

// ---- rendering ------------------------------------------------------------------------------

/** A table cell: pipes and newlines would break the row. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ↵ ');
}

function code(text: string): string {
  const ticks = text.includes('`') ? '``' : '`';
  return `${ticks}${text.includes('`') ? ' ' : ''}${text}${text.includes('`') ? ' ' : ''}${ticks}`;
}

function argv(list: string[] | undefined): string {
  return list ? code(JSON.stringify(list)) : '—';
}

/** The image page as Markdown: readable in the editor, previewable, copyable. */
export function renderImageSummary(registryName: string, s: ImageSummary): string {
  const i = s.image;
  const platform = i.platform ? formatPlatform(i.platform) : [s.os, s.architecture, s.variant].filter(Boolean).join('/');
  const out: string[] = [];
  out.push(`# ${registryName}/${describeTarget({ repository: i.repository, reference: i.reference })}`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Platform | ${cell(platform || 'unknown')}${i.platforms.length > 1 ? ` (of ${cell(i.platforms.join(', '))})` : ''} |`);
  out.push(`| Manifest | ${code(i.digest)} |`);
  if (i.topDigest !== i.digest) out.push(`| Index | ${code(i.topDigest)} |`);
  out.push(`| Config | ${code(s.configDigest)} |`);
  out.push(`| Created | ${s.created ?? '—'} |`);
  if (s.author) out.push(`| Author | ${cell(s.author)} |`);
  out.push(`| Size | ${formatBytes(s.totalBytes)} (${s.totalBytes} bytes: ${s.layers.length} layer${s.layers.length === 1 ? '' : 's'} ${s.layersBytes}, config ${i.manifest.config.size}, manifest ${i.manifestBytes}) |`, '');

  const r = s.run;
  out.push('## Config', '', '| | |', '|---|---|');
  out.push(`| Entrypoint | ${argv(r.entrypoint)} |`, `| Cmd | ${argv(r.cmd)} |`);
  out.push(`| User | ${r.user ? code(r.user) : '—'} |`, `| Working dir | ${r.workingDir ? code(r.workingDir) : '—'} |`);
  out.push(`| Exposed ports | ${r.exposedPorts.length ? r.exposedPorts.map(code).join(', ') : '—'} |`);
  if (r.volumes.length) out.push(`| Volumes | ${r.volumes.map(code).join(', ')} |`);
  if (r.stopSignal) out.push(`| Stop signal | ${code(r.stopSignal)} |`);
  out.push('');
  out.push('### Environment', '');
  if (r.env.length) {
    out.push('| Name | Value |', '|---|---|', ...r.env.map((e) => `| ${code(e.name)} | ${cell(e.value) || '—'} |`));
  } else out.push('None.');
  out.push('', '### Labels', '');
  const labels = Object.entries(r.labels).sort(([a], [b]) => a.localeCompare(b));
  if (labels.length) out.push('| Label | Value |', '|---|---|', ...labels.map(([k, v]) => `| ${code(k)} | ${cell(v) || '—'} |`));
  else out.push('None.');

  out.push('', '## History', '');
  if (!s.history.length) out.push('The config records no history.');
  else {
    if (!s.historyMatchesLayers) out.push(`The history records ${s.history.filter((h) => h.layer === undefined).length} steps that do not line up with the ${s.layers.length} layers, so steps are not matched to layers.`, '');
    out.push('| # | Created | Layer | Size | Command |', '|---|---|---|---|---|');
    s.history.forEach((h, n) => {
      const layer = h.layer ? `${h.layer.index + 1}` : '—';
      const size = h.layer ? formatBytes(h.layer.size) : '';
      out.push(`| ${n + 1} | ${h.created ?? ''} | ${layer} | ${size} | ${cell(h.createdBy) ? code(cell(h.createdBy)) : '—'} |`);
    });
  }

  out.push('', '## Layers', '', '| # | Digest | Media type | Size | Bytes |', '|---|---|---|---|---|');
  for (const l of s.layers) out.push(`| ${l.index + 1} | ${code(l.digest)} | ${cell(l.mediaType)} | ${formatBytes(l.size)} | ${l.size} |`);
  out.push(`| | **Total** | | **${formatBytes(s.layersBytes)}** | **${s.layersBytes}** |`, '');
  return out.join('\n');
}
