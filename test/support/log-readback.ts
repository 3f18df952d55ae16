// What the fault tests read back from a restarted log, entry by entry (ReceiptLog's onEntry): the replay the server
// would restore, each entry's leaf hash, how often each idempotency key was recorded, and the units allowed.
import { toHex, type ChainedEntry } from '../../receipts/index.ts';
import { LogReplay } from '../../recording/log-replay.ts';

export class LogReadBack {
  readonly replay = new LogReplay();
  /** Leaf hash (hex) by index. */
  readonly leaves = new Map<number, string>();
  /** Times each idempotency key appears. */
  readonly keys = new Map<string, number>();
  /** Units of the allowed decisions. */
  recordedUnits = 0;

  /** Pass as ReceiptLog.open's onEntry. */
  readonly onEntry = (e: ChainedEntry): void => {
    this.replay.add(e);
    this.leaves.set(e.index, toHex(e.leafHash));
    const { body } = e.receipt;
    if (typeof body.idempotencyKey === 'string') this.keys.set(body.idempotencyKey, (this.keys.get(body.idempotencyKey) ?? 0) + 1);
    if (e.receipt.kind === 'decision' && body.allowed === true) this.recordedUnits += body.amount as number;
  };
}
