/** Coalesces bursts per key (a push sends many events): the last call of a burst runs once, after quietMs. */
export class Debouncer<K> {
  private readonly timers = new Map<K, NodeJS.Timeout>();

  constructor(private readonly quietMs: number) {}

  run(key: K, fn: () => void): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fn();
      }, this.quietMs),
    );
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
