/** A stored object whose bytes differ from what the log holds under the same name: a rewrite or a split view. */
export class AnchorConflictError extends Error {
  readonly object: string;

  constructor(object: string, message: string) {
    super(message);
    this.name = 'AnchorConflictError';
    this.object = object;
  }
}

/**
 * Where anchors go: a bucket (GCS in production, fake-gcs-server in tests) under a prefix. Tiles, entry bundles
 * and per-size checkpoints are immutable: written once, never replaced. Only the latest `checkpoint` moves.
 */
export interface AnchorBucket {
  /** `gs://bucket/prefix` (no trailing slash), for messages; an object is `${location}/${name}`. */
  readonly location: string;
  /**
   * Creates the object unless it exists (`ifGenerationMatch=0`). An existing object with the same bytes counts
   * as written (a retry, or a second writer of the same log); different bytes throw {@link AnchorConflictError}.
   */
  putImmutable(name: string, bytes: Uint8Array): Promise<'created' | 'existed'>;
  /** Replaces the latest checkpoint. */
  putLatest(name: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(name: string): Promise<Uint8Array | undefined>;
  /** Objects whose names start with `prefix` (relative to the bucket's prefix), with when each was stored. */
  list(prefix: string): Promise<StoredObject[]>;
}

/** An object in the anchor bucket: its name under the bucket's prefix and when the bucket stored it (ms). */
export interface StoredObject {
  name: string;
  storedAt: number | undefined;
}
