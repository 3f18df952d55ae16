/**
 * A copy of a store's contents as they were at one instant, read later, a member at a time, while the store goes
 * on changing (issue 19: the run state is captured in the tick the log's size is read, then written over many).
 * Taking it costs O(1); `release` ends it (reading it to the end does too). Read it once.
 */
export interface Capture<T> extends Iterable<T> {
  release(): void;
}

interface Slot<V> {
  value: V;
  /** Insertion number: the map's order is this order, since a new key goes last and a changed one keeps its place. */
  readonly seq: number;
}

/** What a held mark keeps: the value at the mark of each member changed or deleted since, not yet read. */
interface Mark<K, V> {
  /** The last insertion number at the mark: later ones were not there. */
  readonly top: number;
  /** The insertion number of the last member read: a change to it or before it needs nothing kept. */
  read: number;
  /** Values at the mark of members changed since (still in the map). */
  readonly changed: Map<K, V>;
  /** Members at the mark deleted since, in insertion order. */
  readonly gone: { key: K; value: V; seq: number }[];
}

/**
 * A Map, in insertion order, that can be captured in O(1) (`capture`): from the mark on, the first change to a
 * member not yet read keeps the value it overwrote, and the capture reads the live map, taking the kept value
 * where there is one, skipping members added since and putting back those deleted, in their place. So the capture
 * yields exactly the entries, in the order, that the map held at the mark, however long it takes to read. Values
 * are kept by reference: the caller replaces a value, never changes one in place. One mark at a time; a capture
 * taken while one is held is copied whole, in the tick it is taken.
 */
export class MarkedMap<K, V> implements Iterable<[K, V]> {
  readonly #slots = new Map<K, Slot<V>>();
  #seq = 0;
  #mark: Mark<K, V> | undefined;

  constructor(entries: Iterable<readonly [K, V]> = []) {
    for (const [key, value] of entries) this.set(key, value);
  }

  get size(): number {
    return this.#slots.size;
  }

  get(key: K): V | undefined {
    return this.#slots.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#slots.has(key);
  }

  /** Sets `key`: a key already present keeps its place, a new one goes last. */
  set(key: K, value: V): this {
    const slot = this.#slots.get(key);
    if (slot === undefined) this.#slots.set(key, { value, seq: ++this.#seq });
    else {
      if (this.#mark !== undefined) this.#keepChanged(this.#mark, key, slot);
      slot.value = value;
    }
    return this;
  }

  delete(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    if (this.#mark !== undefined) this.#keepGone(this.#mark, key, slot);
    return this.#slots.delete(key);
  }

  /** The first entry in order (the oldest key set), if any. */
  oldest(): [K, V] | undefined {
    const first = this.#slots.entries().next();
    return first.done === true ? undefined : [first.value[0], first.value[1].value];
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [key, slot] of this.#slots) yield [key, slot.value];
  }

  *keys(): IterableIterator<K> {
    yield* this.#slots.keys();
  }

  *values(): IterableIterator<V> {
    for (const slot of this.#slots.values()) yield slot.value;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** The entries as they are now, in order, read later (see the class). */
  capture(): Capture<[K, V]> {
    if (this.#mark !== undefined) return copied([...this.entries()]);
    const mark: Mark<K, V> = { top: this.#seq, read: 0, changed: new Map(), gone: [] };
    this.#mark = mark;
    const release = (): void => {
      if (this.#mark === mark) this.#mark = undefined;
    };
    const read = this.#read(mark, release);
    return { [Symbol.iterator]: () => read, release };
  }

  *#read(mark: Mark<K, V>, release: () => void): Generator<[K, V]> {
    try {
      for (const [key, slot] of this.#slots) {
        if (slot.seq > mark.top) break; // added after the mark, as is everything after it
        // Settled before the first yield: once `read` passes them, later changes keep nothing.
        const value = mark.changed.has(key) ? takeKept(mark.changed, key) : slot.value;
        const gone = this.#goneBefore(mark, slot.seq);
        mark.read = slot.seq;
        if (gone !== undefined) yield* gone;
        yield [key, value];
      }
      mark.read = mark.top;
      yield* this.#goneBefore(mark, Infinity) ?? [];
    } finally {
      release();
    }
  }

  /** The deleted members read before insertion number `seq`, taken off the kept ones. */
  #goneBefore(mark: Mark<K, V>, seq: number): [K, V][] | undefined {
    if (mark.gone.length === 0 || mark.gone[0]!.seq > seq) return undefined;
    let n = 0;
    while (n < mark.gone.length && mark.gone[n]!.seq < seq) n++;
    return mark.gone.splice(0, n).map((g): [K, V] => [g.key, g.value]);
  }

  #keepChanged(mark: Mark<K, V>, key: K, slot: Slot<V>): void {
    if (slot.seq > mark.read && slot.seq <= mark.top && !mark.changed.has(key)) mark.changed.set(key, slot.value);
  }

  #keepGone(mark: Mark<K, V>, key: K, slot: Slot<V>): void {
    if (slot.seq <= mark.read || slot.seq > mark.top) return;
    const value = mark.changed.has(key) ? takeKept(mark.changed, key) : slot.value;
    // Deletions come mostly from the front, in order; one out of order goes to its place.
    let at = mark.gone.length;
    while (at > 0 && mark.gone[at - 1]!.seq > slot.seq) at--;
    mark.gone.splice(at, 0, { key, value, seq: slot.seq });
  }
}

/** The kept value of `key`, no longer kept. */
function takeKept<K, V>(kept: Map<K, V>, key: K): V {
  const value = kept.get(key) as V;
  kept.delete(key);
  return value;
}

/** A capture of members already copied: nothing to keep or release. */
export function copied<T>(items: readonly T[]): Capture<T> {
  return { [Symbol.iterator]: () => items[Symbol.iterator](), release: () => undefined };
}
