import { createHash } from 'node:crypto';
import { ErrorReply, type RedisClientType } from '@redis/client';

/** The client, as counters/ uses it: plain commands on one connection (RESP3, auto-pipelined within a tick). */
export type Client = RedisClientType;

/**
 * A Lua script sent by its SHA-1 (EVALSHA), and whole (EVAL, which caches it) when the server does not know it
 * yet: after a restart or a failover the script cache is empty, and the first call reloads it.
 */
export class Script {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script on `keys` (`KEYS`) with `args` (`ARGV`). */
  async run(client: Client, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await client.sendCommand(['EVALSHA', this.#sha, ...tail]);
    } catch (e) {
      if (!(e instanceof ErrorReply && e.message.startsWith('NOSCRIPT'))) throw e;
      return client.sendCommand(['EVAL', this.#lua, ...tail]);
    }
  }
}
