import { runSteps, type Steps } from './steps.ts';

/** Marks a key removed in an overlay. */
const REMOVED: unique symbol = Symbol('removed');
type Slot<V> = V | typeof REMOVED;
/** Keys copied or set between two yields of `deriving`: well under a millisecond. */
const STEP_KEYS = 2048;

/**
 * An immutable map that is cheap to derive from: `with(changes)` shares a frozen base and copies only a small
 * overlay of changed keys. When the overlay grows past about √(size × k), k the keys this change touches, it is
 * folded into a new base, so a change costs O(√(n·k)) amortised instead of O(n) — this is what lets one edit
 * recompile in well under a millisecond with 100 000 tenants while every snapshot stays immutable for whoever
 * still holds it. (With k in the bound, a change of √n keys or more — an SKU many tenants use — does not fold
 * the whole map every time.)
 */
export class OverlayMap<K, V> implements ReadonlyMap<K, V> {
  readonly #base: ReadonlyMap<K, V>;
  readonly #overlay: ReadonlyMap<K, Slot<V>>;
  readonly size: number;

  private constructor(base: ReadonlyMap<K, V>, overlay: ReadonlyMap<K, Slot<V>>, size: number) {
    this.#base = base;
    this.#overlay = overlay;
    this.size = size;
  }

  static empty<K, V>(): OverlayMap<K, V> {
    return new OverlayMap<K, V>(new Map(), new Map(), 0);
  }

  static from<K, V>(entries: Iterable<readonly [K, V]>): OverlayMap<K, V> {
    const base = new Map(entries);
    return new OverlayMap<K, V>(base, new Map(), base.size);
  }

  get(key: K): V | undefined {
    const slot = this.#overlay.get(key);
    if (slot === REMOVED) return undefined;
    return slot !== undefined ? slot : this.#base.get(key);
  }

  has(key: K): boolean {
    const slot = this.#overlay.get(key);
    return slot === undefined ? this.#base.has(key) : slot !== REMOVED;
  }

  /** A new map with `set` entries set and `remove` keys removed; this one is unchanged. */
  with(set: ReadonlyMap<K, V>, remove: Iterable<K> = []): OverlayMap<K, V> {
    return runSteps(this.deriving(set, remove));
  }

  /**
   * `with` as steps, a yield every STEP_KEYS keys copied or set, so that deriving a map of 100 000 keys (a change
   * of most tenants, or the fold) can be spread over several turns of the event loop. Same result as `with`.
   */
  *deriving(set: ReadonlyMap<K, V>, remove: Iterable<K> = []): Steps<OverlayMap<K, V>> {
    const overlay = new Map<K, Slot<V>>();
    const count = { keys: 0, size: this.size, touched: set.size };
    for (const [k, slot] of this.#overlay) {
      overlay.set(k, slot);
      if (++count.keys % STEP_KEYS === 0) yield;
    }
    for (const [k, v] of set) {
      if (!this.has(k)) count.size++;
      overlay.set(k, v);
      if (++count.keys % STEP_KEYS === 0) yield;
    }
    yield* this.#removing(remove, { overlay, set, count });
    const derived = new OverlayMap(this.#base, overlay, count.size);
    if (overlay.size * overlay.size <= Math.max(count.size, 1024) * Math.max(count.touched, 1)) return derived;
    // Fold: O(n), once per ~√(n/k) changes.
    const base = new Map<K, V>();
    for (const [k, v] of derived.entries()) {
      base.set(k, v);
      if (++count.keys % STEP_KEYS === 0) yield;
    }
    return new OverlayMap<K, V>(base, new Map(), base.size);
  }

  /** The removals of `deriving`, marked in its overlay; counts what they change. */
  *#removing(remove: Iterable<K>, c: { overlay: Map<K, Slot<V>>; set: ReadonlyMap<K, V>; count: { keys: number; size: number; touched: number } }): Steps<void> {
    const { overlay, set, count } = c;
    for (const k of remove) {
      if (++count.keys % STEP_KEYS === 0) yield;
      const slot = overlay.has(k) ? overlay.get(k) : this.#base.has(k) ? this.#base.get(k) : REMOVED;
      if (set.has(k) || slot === REMOVED) continue; // set wins; removing twice counts once
      count.size--;
      count.touched++;
      overlay.set(k, REMOVED);
    }
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, v] of this.#base) if (!this.#overlay.has(k)) yield [k, v];
    for (const [k, slot] of this.#overlay) if (slot !== REMOVED) yield [k, slot];
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(f: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [k, v] of this.entries()) f(v, k, this);
  }
}
