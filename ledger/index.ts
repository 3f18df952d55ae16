// The reading of a verified log shared by the audit report (cli/audit/) and the dashboard (http/ui/): folds of its
// entries into counts, crossings, policy history and usage. Pure: the entries come in, nothing is read or written.
export * from './audit-fold.ts';
export * from './capped-rows.ts';
export * from './entry-rows.ts';
export * from './even-sample.ts';
export * from './filter.ts';
export * from './json-safe.ts';
export * from './last-rows.ts';
export * from './model.ts';
export * from './outcome-tally.ts';
export * from './recent-outcomes.ts';
export * from './tenant-fold.ts';
export * from './time.ts';
export * from './usage-tally.ts';
