/** Least-recently-used map with a cost per value and a budget; a budget of 0 keeps nothing. */
export class CostLru<V> {
  private readonly items = new Map<string, { value: V; cost: number }>();
  private total = 0;
  constructor(private readonly budget: number) {}
  get(key: string): V | undefined {
    const item = this.items.get(key);
    if (!item) return undefined;
    this.items.delete(key);
    this.items.set(key, item);
    return item.value;
  }
  /** Replaces what `key` held; a value over the whole budget is not kept, and neither is the old one. */
  set(key: string, value: V, cost: number): void {
    this.delete(key);
    if (cost > this.budget) return;
    this.items.set(key, { value, cost });
    this.total += cost;
    for (const [k, v] of this.items) {
      if (this.total <= this.budget) break;
      this.items.delete(k);
      this.total -= v.cost;
    }
  }
  delete(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    this.total -= old.cost;
  }
  has(key: string): boolean {
    return this.items.has(key);
  }
  get size(): number {
    return this.items.size;
  }
  get cost(): number {
    return this.total;
  }
}
