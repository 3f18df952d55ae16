import { setImmediate as nextTurn } from 'node:timers/promises';

/** Time one slice may take before it hands the event loop back (issue 19: no stall over 10 ms). */
const SLICE_MS = 4;
/**
 * Characters gathered before they go out as one chunk, whatever the time: few, since the pieces held until then
 * survive young-generation collections (1 MB chunks left 50–150 ms scavenges in bench/scenarios/state-save.ts).
 */
const CHUNK_CHARS = 1 << 17;
/** Pieces made between two looks at the clock (reading it costs). */
const PIECES_PER_LOOK = 64;
/** A container with more members than this is written a member at a time; a smaller one whole. */
const SPLIT_OVER = 32;
/** Containers this near the top are always written a member at a time (the run state's sections). */
const SPLIT_DEPTH = 2;

/**
 * `JSON.stringify(value)` as UTF-8 chunks made a slice at a time, the event loop served between two slices, so a
 * value of tens of megabytes never blocks it for long. The caller must not change `value` until the last chunk
 * is taken. Same text as JSON.stringify for plain objects, arrays and JSON leaves; whatever has a toJSON or
 * another prototype is written whole, by JSON.stringify; but a Map is written as the object of its entries
 * (JSON.stringify writes `{}`), so a caller may hand over a copy of a large map, much cheaper to take than an
 * object of as many keys; a plain object with a [Symbol.iterator] (a capture read as it goes, governor/marked-map.ts)
 * is written as the array of what it yields, and `jsonObjectOf(entries)` as the object of its entries, each pulled
 * when its turn comes. Throws what JSON.stringify throws (a BigInt, a cycle).
 */
export async function* jsonSlices(value: unknown): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let parts: string[] = [];
  let chars = 0;
  let made = 0;
  let sliceStart = performance.now();
  for (const piece of jsonPieces(value, 0)) {
    parts.push(piece);
    chars += piece.length;
    if (chars < CHUNK_CHARS && (++made % PIECES_PER_LOOK !== 0 || performance.now() - sliceStart < SLICE_MS)) continue;
    yield encoder.encode(parts.join(''));
    parts = [];
    chars = 0;
    await nextTurn();
    sliceStart = performance.now();
  }
  if (parts.length > 0) yield encoder.encode(parts.join(''));
}

/** Entries written by jsonSlices as a JSON object, pulled as it writes them. */
export class JsonObjectEntries {
  readonly entries: Iterable<[string, unknown]>;
  constructor(entries: Iterable<[string, unknown]>) {
    this.entries = entries;
  }
}

export function jsonObjectOf(entries: Iterable<[string, unknown]>): JsonObjectEntries {
  return new JsonObjectEntries(entries);
}

/** The text of `value` in pieces, each small unless one leaf is big. */
function* jsonPieces(value: unknown, depth: number): Generator<string> {
  if (value instanceof Map) yield* memberPieces(value as ReadonlyMap<unknown, unknown>, depth);
  else if (value instanceof JsonObjectEntries) yield* memberPieces(value.entries, depth);
  else if (Array.isArray(value) && split(value.length, depth)) yield* arrayPieces(value, depth);
  else if (isLazySequence(value)) yield* arrayPieces(value, depth);
  else if (isPlainObject(value) && split(Object.keys(value).length, depth)) yield* memberPieces(Object.entries(value), depth);
  else yield JSON.stringify(value);
}

function* arrayPieces(items: Iterable<unknown>, depth: number): Generator<string> {
  yield '[';
  let first = true;
  for (const item of items) {
    if (!first) yield ',';
    first = false;
    // As JSON.stringify: an array member that JSON has no text for is null.
    if (jsonless(item)) yield 'null';
    else yield* jsonPieces(item, depth + 1);
  }
  yield ']';
}

function* memberPieces(members: Iterable<[unknown, unknown]>, depth: number): Generator<string> {
  yield '{';
  let first = true;
  for (const [key, member] of members) {
    if (jsonless(member)) continue; // as JSON.stringify: left out
    yield `${first ? '' : ','}${JSON.stringify(String(key))}:`;
    first = false;
    yield* jsonPieces(member, depth + 1);
  }
  yield '}';
}

function split(members: number, depth: number): boolean {
  return depth < SPLIT_DEPTH || members > SPLIT_OVER;
}

function jsonless(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/** A plain object that is iterable (a capture, read as it is written): written as an array (JSON.stringify: an object). */
function isLazySequence(value: unknown): value is Iterable<unknown> {
  return isPlainObject(value) && Symbol.iterator in value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || 'toJSON' in value) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
