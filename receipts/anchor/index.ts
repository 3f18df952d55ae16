export * from './anchor-bucket.ts';
export * from './anchorer.ts';
export * from './gcs-bucket.ts';
