// Receipt bodies as JSON: CBOR byte strings as hex, big integers as decimal text. Pure.
import { toHex } from '../receipts/index.ts';

/** `value` with byte strings as hex and bigints as decimal text, so JSON.stringify can print it. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : typeof v === 'bigint' ? v.toString() : v))) as unknown;
}
