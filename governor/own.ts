/**
 * `record[key]` only when `key` is the record's own property: a feature, metric or rate named `constructor`
 * or `__proto__` must not find Object.prototype's members.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
