export * from './receipt.ts';
export * from './cbor.ts';
export * from './bodies.ts';
export * from './merkle-hash.ts';
export * from './compact-range.ts';
export * from './proofs.ts';
export * from './receipt-chain.ts';
