/**
 * Repository names, tags and their limits, as the OCI distribution spec words them
 * (section "Pulling manifests").
 */

/** `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` */
export const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}` */
export const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Many clients cap hostname + name at 255 characters; the spec says registries may do the same. */
export const MAX_NAME_WITH_HOST = 255;

export function isRepositoryName(name: string, host = ''): boolean {
  const full = host ? `${host}/${name}` : name;
  return full.length <= MAX_NAME_WITH_HOST && REPOSITORY_NAME.test(name);
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}
