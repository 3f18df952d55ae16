// The test files of counters/ share one setup: a real redis-server for the file (test/support/redis-server.ts)
// and the stores opened on it, all closed after the file's tests (not a test file itself).
import type { TestFn } from 'ava';
import { startRedis, stopRedis, type RedisServer } from '../test/support/redis-server.ts';
import type { SharedStore } from './redis-connect.ts';

export interface RedisFixture {
  /** The file's redis-server (set once `before` ran). */
  readonly server: RedisServer;
  /** Stores to close after the file's tests. */
  readonly stores: SharedStore[];
}

/** Starts a redis-server before the file's tests and stops it, and every store in `stores`, after them. */
export function useRedis(test: TestFn): RedisFixture {
  const fixture = { server: undefined as unknown as RedisServer, stores: [] as SharedStore[] };
  test.before(async () => {
    fixture.server = await startRedis();
  });
  test.after.always(async () => {
    await Promise.all(fixture.stores.map((s) => s.close()));
    if (fixture.server) await stopRedis(fixture.server);
  });
  return fixture;
}
