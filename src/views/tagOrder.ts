/** Tag ordering for the `berth.tags.sortOrder` setting. */
export type TagOrder = 'newest' | 'semver' | 'name';

interface SemverParts {
  nums: [number, number, number];
  pre: string | undefined;
}

const SEMVER = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$/;

function semverOf(tag: string): SemverParts | undefined {
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre: m[4] };
}

function compareSemverDesc(a: SemverParts, b: SemverParts): number {
  for (let i = 0; i < 3; i++) {
    const d = (b.nums[i] ?? 0) - (a.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  // A release sorts above its pre-releases.
  if (a.pre === undefined && b.pre !== undefined) return -1;
  if (a.pre !== undefined && b.pre === undefined) return 1;
  return (b.pre ?? '').localeCompare(a.pre ?? '', 'en', { numeric: true });
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Sorts tags for display. `semver`: `latest` first, then versions high to low, then the
 * rest by name. `newest`: by created time (newest first) where known, the rest by name.
 */
export function sortTags(tags: readonly string[], order: TagOrder, createdMs?: ReadonlyMap<string, number>): string[] {
  const out = [...tags];
  switch (order) {
    case 'name':
      return out.sort(byName);
    case 'semver':
      return out.sort((a, b) => {
        if (a === 'latest' || b === 'latest') return a === b ? 0 : a === 'latest' ? -1 : 1;
        const sa = semverOf(a);
        const sb = semverOf(b);
        if (sa && sb) return compareSemverDesc(sa, sb) || byName(a, b);
        if (sa) return -1;
        if (sb) return 1;
        return byName(a, b);
      });
    case 'newest':
      return out.sort((a, b) => {
        const ca = createdMs?.get(a);
        const cb = createdMs?.get(b);
        if (ca !== undefined && cb !== undefined && ca !== cb) return cb - ca;
        if (ca !== undefined && cb === undefined) return -1;
        if (ca === undefined && cb !== undefined) return 1;
        return byName(a, b);
      });
  }
}
