import { UsageError } from './io.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Parses `HOST:PORT` (IPv6 as `[::1]:8080`); port 0 picks a free one. */
export function parseListen(value: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UsageError(`--listen: expected HOST:PORT such as 127.0.0.1:8080, got ${JSON.stringify(value)}`);
  return { host: (m[1] ?? m[2])!, port };
}

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}
