/**
 * `berth-image:` URIs name an image and a path inside it:
 * `berth-image://<registry id>/<repository with / as ~>:<tag>/usr/bin/env`, or `…@sha256:…`,
 * with `!<os~arch~variant>` after the reference for a platform. Repository names cannot contain
 * `~`, `:`, `@` or `!`, so the first segment always splits one way.
 */
import type { ImageTarget } from './resolve';

export const IMAGE_SCHEME = 'berth-image';

export function imageSegment(t: ImageTarget): string {
  const repo = t.repository.replace(/\//g, '~');
  const ref = t.reference.includes(':') ? `@${t.reference}` : `:${t.reference}`;
  return `${repo}${ref}${t.platform ? `!${t.platform.replace(/\//g, '~')}` : ''}`;
}

export function imageUri(registryId: string, t: ImageTarget, path = ''): string {
  return `${IMAGE_SCHEME}://${registryId}/${imageSegment(t)}${path ? `/${path}` : ''}`;
}

export interface ParsedImageUri {
  registryId: string;
  target: ImageTarget;
  /** The key of the image itself (its first segment), for caching per image. */
  image: string;
  /** Inside the image, without a leading `/`; `` for the root. */
  path: string;
}

export function parseImagePath(registryId: string, uriPath: string): ParsedImageUri | undefined {
  const parts = uriPath.split('/').filter((p) => p !== '');
  const first = parts.shift();
  if (!registryId || !first) return undefined;
  const m = /^([^:@!]+)(?::([^@!]+)|@([^!]+))(?:!(.+))?$/.exec(first);
  if (!m) return undefined;
  const reference = m[2] ?? m[3];
  if (!reference) return undefined;
  const target: ImageTarget = { repository: (m[1] as string).replace(/~/g, '/'), reference, ...(m[4] ? { platform: m[4].replace(/~/g, '/') } : {}) };
  return { registryId, target, image: `${registryId}/${first}`, path: parts.join('/') };
}
