// The first rows of a list of unknown length, and how many there were: bounded memory however long the log. Pure.

/** The first `limit` rows, and how many there were. */
export class CappedRows<T> {
  total = 0;
  readonly shown: T[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(make: () => T): void {
    this.total++;
    if (this.shown.length < this.#limit) this.shown.push(make());
  }

  result(): { total: number; shown: T[] } {
    return { total: this.total, shown: [...this.shown] };
  }
}
