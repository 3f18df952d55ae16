// RESP2, the Redis wire protocol, just enough for tests to drive a real redis-server over a raw socket (TAI's own
// client library is the product's choice, not the tests'): commands out as arrays of bulk strings, replies in.

/** An error reply (`-ERR …`, `-NOAUTH …`): returned as a value, since it can sit inside an array (EXEC). */
export class RespError extends Error {}

/** A decoded reply. Bulk strings decode as UTF-8; integers beyond 2^53 lose precision (tests use neither). */
export type RespValue = string | number | null | RespError | RespValue[];

/** One command as RESP: `*N\r\n` then each argument as `$LEN\r\nBYTES\r\n`. */
export function encodeCommand(args: readonly (string | number)[]): Buffer {
  const parts = args.map((a) => Buffer.from(String(a), 'utf8'));
  return Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.flatMap((p) => [Buffer.from(`$${p.length}\r\n`), p, Buffer.from('\r\n')])]);
}

/** The reply that starts at `at`, and where the next one starts; undefined while `buf` holds only part of it. */
export function parseReply(buf: Buffer, at = 0): { value: RespValue; next: number } | undefined {
  const end = buf.indexOf('\r\n', at);
  if (end < 0) return undefined;
  const text = buf.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (String.fromCharCode(buf[at]!)) {
    case '+': return { value: text, next };
    case '-': return { value: new RespError(text), next };
    case ':': return { value: Number(text), next };
    case '$': return bulk(buf, Number(text), next);
    case '*': return array(buf, Number(text), next);
    default: throw new Error(`not a RESP2 reply at byte ${at}: ${JSON.stringify(buf.toString('utf8', at, Math.min(end, at + 40)))}`);
  }
}

function bulk(buf: Buffer, length: number, at: number): { value: RespValue; next: number } | undefined {
  if (length < 0) return { value: null, next: at };
  if (buf.length < at + length + 2) return undefined;
  return { value: buf.toString('utf8', at, at + length), next: at + length + 2 };
}

function array(buf: Buffer, count: number, at: number): { value: RespValue; next: number } | undefined {
  if (count < 0) return { value: null, next: at };
  const items: RespValue[] = [];
  let next = at;
  for (let i = 0; i < count; i++) {
    const item = parseReply(buf, next);
    if (!item) return undefined;
    items.push(item.value);
    next = item.next;
  }
  return { value: items, next };
}
