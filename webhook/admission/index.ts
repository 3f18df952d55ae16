export * from './admission-api.ts';
export * from './admission-controller.ts';
export * from './object-usage.ts';
export * from './reservations.ts';
export * from './resource-ledger.ts';
export * from './resource-vector.ts';
export * from './review.ts';
export * from './tenant-membership.ts';
