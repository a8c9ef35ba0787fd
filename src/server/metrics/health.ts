/** `/healthz`: the storage can be reached and written (a probe file is written, read back and removed). */
import { randomUUID } from 'node:crypto';
import { orUndefined, type StorageDriver } from '../storage/driver';

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checks: Record<string, { ok: boolean; error?: string }>;
}

export async function checkStorageWritable(driver: StorageDriver): Promise<{ ok: boolean; error?: string }> {
  const probe = `/.berth/healthz-${randomUUID()}`;
  try {
    const token = randomUUID();
    await driver.putContent(probe, token);
    if ((await driver.getContent(probe)).toString('utf8') !== token) return { ok: false, error: 'the probe file read back differently' };
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? (e as { name?: string }).name ?? String(e) };
  } finally {
    await orUndefined(driver.delete(probe)).catch(() => undefined);
  }
}

export async function healthReport(checks: Record<string, () => Promise<{ ok: boolean; error?: string }>>): Promise<HealthReport> {
  const results = Object.fromEntries(await Promise.all(Object.entries(checks).map(async ([name, run]) => [name, await run()] as const)));
  return { status: Object.values(results).every((r) => r.ok) ? 'ok' : 'unhealthy', checks: results };
}
