/**
 * The one way a tree item's `contextValue` is built: the kind first, then the set flags
 * sorted and joined with `;` (`registry;local;running`). Menus match it with anchored
 * regexes such as `viewItem =~ /^registry;(.*;)?local(;|$)/`.
 */
export function contextValue(kind: string, flags: Record<string, boolean | undefined> | readonly string[] = []): string {
  const set = Array.isArray(flags)
    ? (flags as readonly string[])
    : Object.entries(flags as Record<string, boolean | undefined>).filter(([, on]) => on === true).map(([name]) => name);
  for (const part of [kind, ...set]) {
    if (!/^[a-zA-Z][a-zA-Z0-9-]*$/.test(part)) throw new Error(`invalid contextValue part "${part}"`);
  }
  const sorted = [...new Set(set)].sort();
  return [kind, ...sorted].join(';');
}

/** Parses a contextValue back into kind and flags (for tests and for commands that receive a node). */
export function parseContextValue(value: string): { kind: string; flags: Set<string> } {
  const [kind = '', ...flags] = value.split(';');
  return { kind, flags: new Set(flags) };
}
