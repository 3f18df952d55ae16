// json-merge-patch ships no types. It mutates its target and stops at __proto__/constructor/prototype keys:
// callers clone first and reject such keys before calling (design §8).
declare module 'json-merge-patch' {
  export function apply(target: unknown, patch: unknown): unknown;
  export function generate(before: unknown, after: unknown): unknown;
  export function merge(patch1: unknown, patch2: unknown): unknown;
  const api: { apply: typeof apply; generate: typeof generate; merge: typeof merge };
  export default api;
}
