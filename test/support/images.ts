/** Test images without the internet: built FROM scratch with Debian's static busybox, or assembled in code. */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './proc';

export const BUSYBOX = '/bin/busybox';

/**
 * A build context for a multi-layer image: busybox, its applet links, and `layers` small files,
 * each in its own layer. No base image, so nothing is pulled from anywhere.
 */
export function busyboxContext(layers = 2, label = 'berth-test'): string {
  const dir = tempDir('ctx');
  copyFileSync(BUSYBOX, join(dir, 'busybox'));
  const lines = ['FROM scratch', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]'];
  mkdirSync(join(dir, 'files'));
  for (let i = 0; i < layers; i++) {
    writeFileSync(join(dir, 'files', `f${i}.txt`), `${label} layer ${i}\n`);
    lines.push(`COPY files/f${i}.txt /data/f${i}.txt`);
  }
  lines.push(`LABEL org.opencontainers.image.title="${label}"`, 'CMD ["/bin/sh", "-c", "cat /data/*.txt"]');
  writeFileSync(join(dir, 'Dockerfile'), lines.join('\n') + '\n');
  return dir;
}

/**
 * A build context for busybox plus `mib` MiB of random bytes in one layer: random bytes do not
 * compress, so pushing it lasts long enough to cancel mid-way.
 */
export function bigImageContext(mib: number): string {
  const dir = tempDir('bigctx');
  copyFileSync(BUSYBOX, join(dir, 'busybox'));
  writeFileSync(join(dir, 'big.bin'), randomBytes(mib * 1024 * 1024));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY big.bin /big.bin\n');
  return dir;
}
