// Reading a published log over the network: from an http(s) URL (e.g. http://127.0.0.1:8080/log, where `tai
// serve` serves it) or from a bucket holding its anchors. The bucket is passed in (server/gcs-storage.ts makes the
// one Cloud Storage client), so the client does not depend on @google-cloud/storage.
import type { ReadLogFile } from '../index.ts';

/** A file of the log that could not be read (the network, the server or the bucket failed): not a verdict on the log. */
export class LogReadError extends Error {
  override name = 'LogReadError';
}

/** Reads a log's files from `base` (http or https); a 404 reads as undefined, any other failure is a LogReadError. */
export function httpLogReader(base: string): ReadLogFile {
  const root = base.replace(/\/+$/, '');
  return async (path) => {
    const res = await fetch(`${root}/${path}`).catch((e: unknown) => unreadable(`${root}/${path}`, e));
    if (res.status === 404) return undefined;
    if (!res.ok) throw new LogReadError(`GET ${root}/${path}: ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** What the bucket reader needs of a bucket (receipts/anchor's GcsBucket is one). */
export interface ReadableBucket {
  readonly location: string;
  get(path: string): Promise<Uint8Array | undefined>;
}

/** Reads a log's files from the bucket its anchors are in; a failure is a LogReadError naming the object. */
export function bucketLogReader(bucket: ReadableBucket): ReadLogFile {
  return (path) => bucket.get(path).catch((e: unknown) => unreadable(`${bucket.location}/${path}`, e));
}

function unreadable(what: string, e: unknown): never {
  throw new LogReadError(`cannot read ${what}: ${(e as Error).message}`);
}
