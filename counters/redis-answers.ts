import { IDEMPOTENCY_TTL_MS, type ConsumeDecision, type SharedAnswers } from '../governor/index.ts';
import type { RedisCounters } from './redis-counters.ts';

/** How long a claim may stay unanswered before a retry is decided afresh (a replica died mid-request). */
export const CLAIM_TTL_MS = 30_000;

/** What marks a claim in the store: never the start of a stored answer, which is a JSON object. */
const CLAIM_PREFIX = 'claim ';

/**
 * Idempotency keys shared through Redis: a consume claims its key (SET NX, expiring after CLAIM_TTL_MS), and
 * the replica that recorded it stores the answer, receipt included, as JSON for IDEMPOTENCY_TTL_MS; a retry on
 * any replica gets that JSON back, so the answer is the same byte for byte.
 */
export class RedisAnswers implements SharedAnswers {
  readonly #counters: RedisCounters;
  /** This replica's claims: the marker of each key it holds (unique per claim, so a late unclaim never drops another's). */
  readonly #held = new Map<string, string>();
  readonly #replica: string;
  #claims = 0;

  constructor(counters: RedisCounters, replica: string) {
    this.#counters = counters;
    this.#replica = replica;
  }

  async claim(tenant: string, key: string, claim: boolean): Promise<ConsumeDecision | 'pending' | undefined> {
    let stored: string | undefined;
    if (claim) {
      const marker = `${CLAIM_PREFIX}${this.#replica} ${++this.#claims}`;
      stored = await this.#counters.claim(tenant, key, { marker, ttlMs: CLAIM_TTL_MS });
      if (stored === undefined) this.#held.set(heldKey(tenant, key), marker);
    } else stored = await this.#counters.stored(tenant, key);
    if (stored === undefined) return undefined;
    return stored.startsWith(CLAIM_PREFIX) ? 'pending' : (JSON.parse(stored) as ConsumeDecision);
  }

  async settle(tenant: string, key: string, answer: ConsumeDecision): Promise<void> {
    this.#held.delete(heldKey(tenant, key));
    await this.#counters.answer(tenant, key, { text: JSON.stringify(answer), ttlMs: IDEMPOTENCY_TTL_MS });
  }

  async abandon(tenant: string, key: string): Promise<void> {
    const marker = this.#held.get(heldKey(tenant, key));
    if (marker === undefined) return;
    this.#held.delete(heldKey(tenant, key));
    await this.#counters.unclaim(tenant, key, marker);
  }
}

function heldKey(tenant: string, key: string): string {
  return `${tenant}\u0000${key}`;
}
