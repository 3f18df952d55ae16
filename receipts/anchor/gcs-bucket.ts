import type { Storage } from '@google-cloud/storage';
import { AnchorConflictError, type AnchorBucket, type StoredObject } from './anchor-bucket.ts';

/** `gs://BUCKET/PREFIX` split; the prefix without leading or trailing slashes (may be empty). */
export function parseGcsUrl(url: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`expected gs://BUCKET[/PREFIX], got ${JSON.stringify(url)}`);
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/**
 * Object Retention Lock for the immutable objects: each is created locked until `days` after its upload, so not
 * even the bucket's owner can delete or replace it before then. The latest `checkpoint` is never retained: it
 * must move (a bucket-wide retention policy would forbid that; see docs/gcs.md).
 */
export interface GcsRetention {
  days: number;
  now: () => number;
}

/**
 * The anchor bucket on Google Cloud Storage, through the official client (Application Default Credentials or
 * Workload Identity in production; `apiEndpoint` for an emulator). Immutable objects are created with
 * `ifGenerationMatch: 0`, so a 412 means the name is taken: equal bytes are success, different bytes a conflict.
 */
export class GcsBucket implements AnchorBucket {
  readonly location: string;
  readonly #storage: Storage;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #retention: GcsRetention | undefined;

  constructor(storage: Storage, url: string, retention?: GcsRetention) {
    const { bucket, prefix } = parseGcsUrl(url);
    this.#storage = storage;
    this.#retention = retention;
    this.#bucket = bucket;
    this.#prefix = prefix ? `${prefix}/` : '';
    this.location = prefix ? `gs://${bucket}/${prefix}` : `gs://${bucket}`;
  }

  async putImmutable(name: string, bytes: Uint8Array): Promise<'created' | 'existed'> {
    try {
      const metadata = this.#retention && { retention: { mode: 'Locked', retainUntilTime: new Date(this.#retention.now() + this.#retention.days * 86_400_000).toISOString() } };
      await this.#file(name).save(Buffer.from(bytes), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 }, contentType: contentTypeOf(name), ...(metadata && { metadata }) });
      return 'created';
    } catch (e) {
      if (statusOf(e) !== 412) throw e;
      const stored = await this.get(name);
      if (stored && Buffer.from(stored).equals(Buffer.from(bytes))) return 'existed';
      throw new AnchorConflictError(name, `${this.location}/${name} already holds different bytes (${stored?.length ?? 0} stored, ${bytes.length} here): the bucket was rewritten or another log writes here`);
    }
  }

  async putLatest(name: string, bytes: Uint8Array): Promise<void> {
    await this.#file(name).save(Buffer.from(bytes), { resumable: false, contentType: contentTypeOf(name) });
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    try {
      const [bytes] = await this.#file(name).download();
      return new Uint8Array(bytes);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const [files] = await this.#storage.bucket(this.#bucket).getFiles({ prefix: this.#prefix + prefix, autoPaginate: true });
    return files.map((f) => {
      const created = Date.parse(String(f.metadata.timeCreated));
      return { name: f.name.slice(this.#prefix.length), storedAt: Number.isFinite(created) ? created : undefined };
    });
  }

  #file(name: string) {
    return this.#storage.bucket(this.#bucket).file(this.#prefix + name);
  }
}

function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function contentTypeOf(name: string): string {
  return name === 'checkpoint' || name.startsWith('checkpoints/') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}
