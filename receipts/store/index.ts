// The receipt log's filesystem edge (design §1: I/O lives in receipts/store and receipts/anchor).
export * from './entry-file.ts';
export * from './entry-audit.ts';
export * from './entry-frames.ts';
export * from './entry-compare.ts';
export * from './receipt-log.ts';
export * from './log-publisher.ts';
export * from './signing-key.ts';
export * from './log-driver.ts';
export * from './run-state.ts';
