// Shared counters on Redis/Valkey (design §12): what server/ opens with --counters. Only re-exports.
export * from './redis-connect.ts';
export * from './redis-counters.ts';
export * from './redis-answers.ts';
export * from './counters-epoch.ts';
export * from './redis-reservations.ts';
export type { Client } from './redis-scripts-runner.ts';
export * from './guarded-call.ts';
export * from './usage-mirror.ts';
