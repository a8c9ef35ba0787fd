/** `/healthz`: the storage root can be reached and written (a probe file is written, read back and removed). */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checks: Record<string, { ok: boolean; error?: string }>;
}

export async function checkStorageWritable(root: string): Promise<{ ok: boolean; error?: string }> {
  const dir = join(root, '.berth');
  const probe = join(dir, `healthz-${randomUUID()}`);
  try {
    await mkdir(dir, { recursive: true });
    const token = randomUUID();
    await writeFile(probe, token);
    if ((await readFile(probe, 'utf8')) !== token) return { ok: false, error: 'the probe file read back differently' };
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

export async function healthReport(checks: Record<string, () => Promise<{ ok: boolean; error?: string }>>): Promise<HealthReport> {
  const results = Object.fromEntries(await Promise.all(Object.entries(checks).map(async ([name, run]) => [name, await run()] as const)));
  return { status: Object.values(results).every((r) => r.ok) ? 'ok' : 'unhealthy', checks: results };
}
