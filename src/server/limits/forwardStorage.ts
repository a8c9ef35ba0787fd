import type { Storage } from '../storage';

/**
 * A Storage that forwards every method to `inner` (bound to it) except the ones in `overrides`.
 * Methods added to the Storage interface later are forwarded without changes here.
 */
export function overrideStorage(inner: Storage, overrides: Partial<Storage>): Storage {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const own = (overrides as Record<string | symbol, unknown>)[key];
      if (own !== undefined) return own;
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
