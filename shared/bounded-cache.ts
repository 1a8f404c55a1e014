export type BoundedCacheOptions = {
  /** Entries kept at most; past it the least recently used one goes. */
  max: number;
  /** How long an entry is served, unless `set` says otherwise; none: until evicted. */
  ttlMs?: number;
  now?: () => number;
};

/**
 * A per-isolate (or per-process) memo with a size and an age limit in one place. Memory is what
 * runs out in a Workers isolate: every module-level map goes through this, so none grows without
 * bound and none drops everything at once when full. Expired entries are dropped when read.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number }>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(opts: BoundedCacheOptions) {
    if (!Number.isInteger(opts.max) || opts.max < 1) throw new RangeError(`BoundedCache max must be a positive integer, got ${opts.max}`);
    this.#max = opts.max;
    this.#ttlMs = opts.ttlMs ?? Infinity;
    // Read late, so a test's clock (or Workers' I/O-driven one) is the one used.
    this.#now = opts.now ?? (() => Date.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    if (e.expires <= this.#now()) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
    this.#entries.set(key, e);
    return e.value;
  }

  set(key: K, value: V, ttlMs: number = this.#ttlMs): this {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expires: this.#now() + ttlMs });
    return this;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
