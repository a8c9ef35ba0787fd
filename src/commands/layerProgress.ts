/**
 * Turns the engine's per-layer push/pull events into the progress notification (a summary and the
 * layers in flight, each with its bytes) and a per-layer record in the log (one line each time a
 * layer changes state), so a slow or stuck layer can be told from the others.
 */
import type { LayerProgress, ProgressEvent } from '../engine/progress';
import { formatBytes } from '../oci/format';
import type { ProgressReport } from './ui';

/** Layers in flight named in the notification; the rest are counted. */
const MAX_LAYERS_SHOWN = 3;

/** `Pushing 3.1 MB of 10 MB`, `Pushed 10 MB`, `Waiting`: a layer's state in a few words. */
export function layerState(layer: LayerProgress): string {
  if (layer.done) return layer.sizeBytes !== undefined ? `${layer.status} (${formatBytes(layer.sizeBytes)})` : layer.status;
  if (layer.current !== undefined && layer.total !== undefined) return `${layer.status} ${formatBytes(layer.current)} of ${formatBytes(layer.total)}`;
  return layer.status;
}

/** Follows one transfer; VS Code's `increment` only adds, so the percentage never goes back. */
export class TransferProgress {
  private reportedPercent = 0;
  private readonly layers = new Map<string, LayerProgress>();
  private readonly loggedStatus = new Map<string, string>();

  /** `log` gets one line per layer state change (the Berth output channel). */
  constructor(private readonly log?: (line: string) => void) {}

  report(e: ProgressEvent): ProgressReport {
    const o = e.overall;
    const parts = [`${o.layersDone}/${o.layers} layers`];
    if (o.totalBytes > 0) parts.push(`${formatBytes(o.currentBytes)} of ${formatBytes(o.totalBytes)}`);
    if (e.type === 'layer') {
      this.layers.set(e.layer.id, { ...e.layer });
      if (this.loggedStatus.get(e.layer.id) !== e.layer.status) {
        this.loggedStatus.set(e.layer.id, e.layer.status);
        this.log?.(`  layer ${e.layer.id}: ${layerState(e.layer)}`);
      }
      const active = [...this.layers.values()].filter((l) => !l.done);
      const named = active.slice(0, MAX_LAYERS_SHOWN).map((l) => `${l.id} ${layerState(l)}`);
      if (active.length > MAX_LAYERS_SHOWN) named.push(`+${active.length - MAX_LAYERS_SHOWN} more`);
      if (named.length) parts.push(named.join(', '));
      else parts.push(`${e.layer.id} ${layerState(e.layer)}`);
    } else if (e.type === 'status') {
      parts.push(e.message);
      this.log?.(`  ${e.message}`);
    } else {
      this.log?.(`  digest ${e.digest}${e.sizeBytes !== undefined ? ` (manifest ${formatBytes(e.sizeBytes)})` : ''}`);
    }
    const percent = o.layers > 0 ? Math.floor(((o.totalBytes > 0 ? o.currentBytes / o.totalBytes : 0) * 0.5 + (o.layersDone / o.layers) * 0.5) * 100) : 0;
    const increment = Math.max(0, Math.min(100, percent) - this.reportedPercent);
    this.reportedPercent += increment;
    return { message: parts.join(' · '), ...(increment > 0 ? { increment } : {}) };
  }

  /** Every layer seen and where it ended, one line each: what the log keeps once the notification is gone. */
  summary(): string[] {
    return [...this.layers.values()].map((l) => `  layer ${l.id}: ${layerState(l)}`);
  }
}
