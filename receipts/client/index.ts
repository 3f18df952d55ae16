// The log client: what reads a published log (a folder, an http(s) URL, a bucket's reader passed in) and builds
// proofs over its tiles. Only re-exports. The GCS reader stays in server/gcs-storage.ts beside the one Cloud
// Storage client (docs/adr/0013-layers-point-inward.md).
export * from './anchored-origins.ts';
export * from './checkpoint-read.ts';
export * from './folder-reader.ts';
export * from './log-tree.ts';
export * from './remote-readers.ts';
export * from './tile-read.ts';
export * from './tile-reader.ts';
export * from './verify-workers.ts';
