/**
 * Who may do what: users and groups (teams), repository patterns, actions pull/push/delete.
 * Rules only grant; anything no rule grants is denied once authentication is on.
 *
 *   access:
 *     groups: { team-a: [alice, bob] }
 *     rules:
 *       - { repositories: ["team-a/*"], groups: [team-a], actions: [pull, push] }
 *       - { repositories: ["public/**"], anonymous: true, actions: [pull] }
 *     metrics: { users: [prometheus], groups: [ops] }
 *
 * `/metrics` is the scope `registry:metrics:*`: with an `access:` section only the users and
 * groups under `access.metrics` hold it (nobody when it is absent); without one every signed-in user.
 * Patterns: `*` matches within one path segment, `**` across segments, `?` one character.
 * `users: ["*"]` means every signed-in user.
 */
import { ConfigValueError, optBool, optStringList, readSection } from '../limits/configValues';

export const ACTIONS = ['pull', 'push', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];

/** One scope item as docker words it: `repository:team-a/api:pull,push`, `registry:catalog:*`. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

interface Rule {
  patterns: RegExp[];
  users: Set<string>;
  groups: string[];
  anonymous: boolean;
  actions: Action[];
}

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      // `team/**` also matches `team` itself, as people expect of "everything under team".
      if (pattern[i + 2] === undefined && re.endsWith('\\/')) re = `${re.slice(0, -2)}(?:\\/.*)?`;
      else re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The scope item `/metrics` needs: a Prometheus scrape reads every repository's counts. */
export const METRICS_ACCESS: Access = { type: 'registry', name: 'metrics', actions: ['*'] };

interface MetricsGrant {
  users: Set<string>;
  groups: string[];
}

export class AccessPolicy {
  private constructor(
    private readonly rules: Rule[] | undefined,
    private readonly groupsOfUser: Map<string, Set<string>>,
    private readonly metrics: MetricsGrant = { users: new Set(), groups: [] },
  ) {}

  /** No `access:` section: every signed-in user may do everything (distribution's htpasswd behaviour). */
  static allowAllUsers(): AccessPolicy {
    return new AccessPolicy(undefined, new Map());
  }

  static fromConfig(section: unknown, path = 'access'): AccessPolicy {
    if (section === undefined || section === null) return AccessPolicy.allowAllUsers();
    const s = readSection(section, path, ['groups', 'rules', 'metrics']);
    const groupsOfUser = new Map<string, Set<string>>();
    const groups = readSection(s['groups'], `${path}.groups`, Object.keys((s['groups'] as object | undefined) ?? {}));
    for (const group of Object.keys(groups)) {
      const members = optStringList(groups, group, `${path}.groups`) ?? [];
      for (const m of members) {
        const set = groupsOfUser.get(m) ?? new Set<string>();
        set.add(group);
        groupsOfUser.set(m, set);
      }
    }
    const rawRules = s['rules'] ?? [];
    if (!Array.isArray(rawRules)) throw new ConfigValueError(`${path}.rules`, 'expected a list of rules');
    const rules = rawRules.map((raw, i): Rule => {
      const p = `${path}.rules[${i}]`;
      const r = readSection(raw, p, ['repositories', 'users', 'groups', 'anonymous', 'actions']);
      const repositories = optStringList(r, 'repositories', p);
      if (!repositories || repositories.length === 0) throw new ConfigValueError(`${p}.repositories`, 'a rule needs at least one repository pattern, such as "team-a/*"');
      const actions = optStringList(r, 'actions', p);
      if (!actions || actions.length === 0) throw new ConfigValueError(`${p}.actions`, `a rule needs actions (${ACTIONS.join(', ')})`);
      const expanded = actions.includes('*') ? [...ACTIONS] : actions;
      for (const a of expanded) {
        if (!(ACTIONS as readonly string[]).includes(a)) throw new ConfigValueError(`${p}.actions`, `unknown action "${a}" (use ${ACTIONS.join(', ')})`);
      }
      const ruleGroups = optStringList(r, 'groups', p) ?? [];
      for (const g of ruleGroups) if (!(g in groups)) throw new ConfigValueError(`${p}.groups`, `group "${g}" is not defined under ${path}.groups`);
      const users = optStringList(r, 'users', p) ?? [];
      const anonymous = optBool(r, 'anonymous', p) ?? false;
      if (users.length === 0 && ruleGroups.length === 0 && !anonymous) throw new ConfigValueError(p, 'a rule must name users, groups, or set anonymous: true');
      return { patterns: repositories.map(globToRegExp), users: new Set(users), groups: ruleGroups, anonymous, actions: expanded as Action[] };
    });
    const m = readSection(s['metrics'] ?? {}, `${path}.metrics`, ['users', 'groups']);
    const metricsGroups = optStringList(m, 'groups', `${path}.metrics`) ?? [];
    for (const g of metricsGroups) if (!(g in groups)) throw new ConfigValueError(`${path}.metrics.groups`, `group "${g}" is not defined under ${path}.groups`);
    const metrics = { users: new Set(optStringList(m, 'users', `${path}.metrics`) ?? []), groups: metricsGroups };
    return new AccessPolicy(rules, groupsOfUser, metrics);
  }

  /** True when `user` (undefined: anonymous, never) may read `/metrics`. */
  mayReadMetrics(user: string | undefined): boolean {
    if (user === undefined) return false;
    if (!this.rules) return true;
    const groups = this.groupsOfUser.get(user);
    return this.metrics.users.has(user) || this.metrics.users.has('*') || this.metrics.groups.some((g) => groups?.has(g));
  }

  /** True when some rule lets callers without credentials in. */
  get allowsAnonymous(): boolean {
    return this.rules?.some((r) => r.anonymous) ?? false;
  }

  /** The actions `user` (undefined: anonymous) holds on `repository`. */
  actionsOn(user: string | undefined, repository: string): Set<Action> {
    if (!this.rules) return new Set(user === undefined ? [] : ACTIONS);
    const granted = new Set<Action>();
    const groups = user === undefined ? undefined : this.groupsOfUser.get(user);
    for (const rule of this.rules) {
      const applies = rule.anonymous
        || (user !== undefined && (rule.users.has(user) || rule.users.has('*') || rule.groups.some((g) => groups?.has(g))));
      if (applies && rule.patterns.some((re) => re.test(repository))) for (const a of rule.actions) granted.add(a);
    }
    return granted;
  }

  /**
   * The part of `requested` that `user` holds, as docker's token server answers it: each item keeps
   * only the granted actions and items with none are dropped. `registry:catalog:*` is granted to
   * every signed-in user and to anonymous callers when anonymous rules exist; the catalog itself is
   * filtered per repository.
   */
  grant(user: string | undefined, requested: readonly Access[]): Access[] {
    const out: Access[] = [];
    for (const item of requested) {
      let actions: string[] = [];
      if (item.type === 'repository') {
        const held = this.actionsOn(user, item.name);
        actions = item.actions.filter((a) => held.has(a as Action));
      } else if (item.type === 'registry' && item.name === 'catalog') {
        if (user !== undefined || this.allowsAnonymous) actions = item.actions.filter((a) => a === '*');
      } else if (item.type === 'registry' && item.name === METRICS_ACCESS.name) {
        if (this.mayReadMetrics(user)) actions = item.actions.filter((a) => a === '*');
      }
      if (actions.length > 0) out.push({ type: item.type, name: item.name, actions: [...new Set(actions)] });
    }
    return out;
  }

  canPull(user: string | undefined, repository: string): boolean {
    return this.actionsOn(user, repository).has('pull');
  }
}

/** Parses docker's `scope` parameter(s): space-separated `type:name:actions`, where a name may hold a port's colon. */
export function parseScopes(values: readonly string[]): Access[] {
  const out: Access[] = [];
  for (const value of values) {
    for (const item of value.split(' ')) {
      if (item === '') continue;
      const first = item.indexOf(':');
      const last = item.lastIndexOf(':');
      if (first <= 0 || last === first) continue;
      const type = item.slice(0, first).replace(/\(.*\)$/, '');
      const name = item.slice(first + 1, last);
      const actions = item.slice(last + 1).split(',').filter((a) => a !== '');
      if (name === '' || actions.length === 0) continue;
      const existing = out.find((a) => a.type === type && a.name === name);
      if (existing) existing.actions = [...new Set([...existing.actions, ...actions])];
      else out.push({ type, name, actions });
    }
  }
  return out;
}

export function formatScope(items: readonly Access[]): string {
  return items.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' ');
}

/** True when every action of every needed item is within `held`. */
export function covers(held: readonly Access[], needed: readonly Access[]): boolean {
  return needed.every((n) => {
    const h = held.filter((x) => x.type === n.type && x.name === n.name).flatMap((x) => x.actions);
    return n.actions.every((a) => h.includes(a) || h.includes('*'));
  });
}
