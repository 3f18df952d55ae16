// The last rows of a list of unknown length, and how many there were: a ring of `limit` rows. Pure.

/** The last `limit` rows added, and how many there were. */
export class LastRows<T> {
  total = 0;
  readonly #ring: T[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(row: T): void {
    if (this.#limit > 0) this.#ring[this.total % this.#limit] = row;
    this.total++;
  }

  /** The kept rows, newest first. */
  newestFirst(): T[] {
    const n = Math.min(this.total, this.#limit);
    return Array.from({ length: n }, (_, k) => this.#ring[(this.total - 1 - k) % this.#limit]!);
  }
}
