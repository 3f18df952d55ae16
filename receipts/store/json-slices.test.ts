import test from 'ava';
import fc from 'fast-check';
import { jsonObjectOf, jsonSlices } from './json-slices.ts';

async function text(value: unknown): Promise<string> {
  const decoder = new TextDecoder();
  let out = '';
  for await (const chunk of jsonSlices(value)) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

test('the slices make the same text as JSON.stringify, for any value in an object (the run state is one)', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.anything({ withBigInt: false, withMap: false, withSet: true, withDate: true, withNullPrototype: true, withSparseArray: true }), async (value) => {
      const state = { replay: value, list: [value], deep: { a: { b: { c: value } } } };
      t.is(await text(state), JSON.stringify(state));
    }),
  );
});

test('left-out members, undefined array members and toJSON as JSON.stringify; big containers split', async (t) => {
  const value = {
    a: undefined,
    f: () => 1,
    list: [undefined, () => 1, Symbol('s'), 1, 'x'],
    when: new Date(0),
    big: Array.from({ length: 5000 }, (_, i) => ({ i, s: `é${i}`, n: null, u: undefined })),
    wide: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, { v: i }])),
  };
  t.is(await text(value), JSON.stringify(value));
});

test('what JSON.stringify throws on is thrown', async (t) => {
  await t.throwsAsync(() => text({ replay: { cells: [1n] } }), { instanceOf: TypeError });
  const cycle: Record<string, unknown> = {};
  cycle.self = { up: cycle };
  await t.throwsAsync(() => text(cycle), { instanceOf: TypeError });
});

test('a Map is written as the object of its entries, at any depth', async (t) => {
  const docs = new Map(Array.from({ length: 100 }, (_, i) => [`tenant-${i}`, { features: { sso: i % 2 === 0 }, gone: undefined }]));
  const state = { replay: { effective: docs, small: new Map([['a', 1]]) } };
  t.is(await text(state), JSON.stringify({ replay: { effective: Object.fromEntries(docs), small: { a: 1 } } }));
});

test('a plain iterable object is written as the array it yields, jsonObjectOf as the object of its entries, each pulled in its turn', async (t) => {
  const pulled: number[] = [];
  const lazy = {
    *[Symbol.iterator]() {
      for (let i = 0; i < 3000; i++) yield (pulled.push(i), { i });
    },
    release: () => undefined,
  };
  const entries = jsonObjectOf((function* () { yield* [['a', 1], ['b', { c: [2] }]] as [string, unknown][]; })());
  t.is(await text({ version: 1, replay: { cells: lazy, effective: entries } }), JSON.stringify({ version: 1, replay: { cells: Array.from({ length: 3000 }, (_, i) => ({ i })), effective: { a: 1, b: { c: [2] } } } }));
  t.is(pulled.length, 3000);
});
