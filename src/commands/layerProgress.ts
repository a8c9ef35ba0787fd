/** Turns the engine's per-layer push/pull events into one notification line and a percentage. */
import type { ProgressEvent } from '../engine/progress';
import { formatBytes } from '../oci/format';
import type { ProgressReport } from './ui';

/** Follows one transfer; VS Code's `increment` only adds, so the percentage never goes back. */
export class TransferProgress {
  private reportedPercent = 0;

  report(e: ProgressEvent): ProgressReport {
    const o = e.overall;
    const parts = [`${o.layersDone}/${o.layers} layers`];
    if (o.totalBytes > 0) parts.push(`${formatBytes(o.currentBytes)} of ${formatBytes(o.totalBytes)}`);
    if (e.type === 'layer') parts.push(`${e.layer.id}: ${e.layer.status}`);
    else if (e.type === 'status') parts.push(e.message);
    const percent = o.layers > 0 ? Math.floor(((o.totalBytes > 0 ? o.currentBytes / o.totalBytes : 0) * 0.5 + (o.layersDone / o.layers) * 0.5) * 100) : 0;
    const increment = Math.max(0, Math.min(100, percent) - this.reportedPercent);
    this.reportedPercent += increment;
    return { message: parts.join(' · '), ...(increment > 0 ? { increment } : {}) };
  }
}
