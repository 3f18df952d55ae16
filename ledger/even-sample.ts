// An evenly spaced sample of a stream of unknown length in bounded memory: keeps every stride-th item and
// doubles the stride (dropping every other kept item) whenever the kept list is full. Pure.

/**
 * Items offered in order; `pick(n)` gives up to n of them spread evenly from the first to the last offered.
 *
 * @example const s = new EvenSample<number>(); for (let i = 0; i < 1e6; i++) s.offer(i); s.pick(5) // [0, …, 999999]
 */
export class EvenSample<T> {
  readonly #capacity: number;
  #stride = 1;
  #seen = 0;
  #kept: T[] = [];
  #last: T | undefined;

  /** `capacity` bounds memory and must be at least 2; the spacing error is at most one stride (seen / capacity). */
  constructor(capacity = 256) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`EvenSample capacity must be an integer ≥ 2, got ${capacity}`);
    this.#capacity = capacity;
  }

  get seen(): number {
    return this.#seen;
  }

  offer(item: T): void {
    if (this.#seen % this.#stride === 0) this.#kept.push(item);
    this.#last = item;
    this.#seen++;
    if (this.#kept.length > this.#capacity) {
      // kept[i] is item i·stride: the even i are the multiples of the doubled stride
      this.#kept = this.#kept.filter((_, i) => i % 2 === 0);
      this.#stride *= 2;
    }
  }

  /**
   * Up to `n` items in offer order: the first, the last, and each other one within half a stride of its even
   * place. Fewer than `n` only when fewer were offered, or when the capacity is below 2n (then two places may
   * fall on one kept item).
   */
  pick(n: number): T[] {
    const last = this.#seen - 1;
    if (last < 0 || n <= 0) return [];
    const targets = n === 1 || last === 0 ? [0] : Array.from({ length: n }, (_, k) => (k * last) / (n - 1));
    const picked = new Map<number, T>(); // by position: targets closer than a stride meet on one item
    for (const target of targets) {
      // kept[i] is position i·stride; the last item may sit between two kept ones
      const i = Math.min(Math.round(target / this.#stride), this.#kept.length - 1);
      const useLast = last - target < Math.abs(target - i * this.#stride);
      if (useLast) picked.set(last, this.#last as T);
      else picked.set(i * this.#stride, this.#kept[i]!);
    }
    return [...picked].sort((a, b) => a[0] - b[0]).map(([, item]) => item);
  }
}
