import type { Clock } from '../governor/index.ts';
import type { PublishReadiness } from '../readiness/index.ts';
import type { CommandIO } from './io.ts';

/** How long publishing may keep failing (a tick each second) before /readyz says not ready. */
export const PUBLISH_FAILING_AFTER_MS = 5000;

/**
 * Whether the log's tiles and checkpoint get published. A publish that fails every second (a TileConflictError, a
 * disk full for tiles while the entries still fit) is reported like the log's own outage: one line when it starts
 * failing and one when it publishes again, and /readyz not ready (a `publish` block naming the error and since
 * when) once it has failed for longer than `failingAfterMs`. Clients still get decisions, but no one can verify
 * their receipts against a checkpoint meanwhile.
 */
export class PublishHealth {
  readonly #clock: Clock;
  readonly #io: CommandIO;
  readonly #failingAfterMs: number;
  #failure: { error: string; since: number; failures: number } | undefined;

  constructor(c: { clock: Clock; io: CommandIO; failingAfterMs?: number }) {
    this.#clock = c.clock;
    this.#io = c.io;
    this.#failingAfterMs = c.failingAfterMs ?? PUBLISH_FAILING_AFTER_MS;
  }

  succeeded(): void {
    const f = this.#failure;
    if (f === undefined) return;
    this.#failure = undefined;
    this.#io.out(`tai: publishing the log works again after ${((this.#clock.now() - f.since) / 1000).toFixed(1)} s (${f.failures} failed attempts)`);
  }

  failed(error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    const f = this.#failure;
    if (f !== undefined) {
      f.error = text;
      f.failures++;
      return;
    }
    this.#failure = { error: text, since: this.#clock.now(), failures: 1 };
    this.#io.err(`tai: publishing the log failed (${text}); retrying every second, /readyz is not ready if it keeps failing for ${this.#failingAfterMs / 1000} s`);
  }

  /** 1 once publishing has failed for longer than `failingAfterMs` (what /readyz reports), else 0. */
  get failing(): number {
    const f = this.#failure;
    return f !== undefined && this.#clock.now() - f.since > this.#failingAfterMs ? 1 : 0;
  }

  /** /readyz's `publish` block. */
  readiness(): PublishReadiness {
    const f = this.#failure;
    if (f === undefined) return { publishing: true };
    return { publishing: this.failing === 0, error: f.error, failingSince: new Date(f.since).toISOString(), failures: f.failures };
  }
}
