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
  /** `gs://bucket/prefix`, for messages. */
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
}
