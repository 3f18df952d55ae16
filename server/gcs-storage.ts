// The one place the `tai` command makes a Cloud Storage client: Application Default Credentials (Workload
// Identity on GKE, the service's identity on Cloud Run) in production, or an emulator at --gcs-endpoint.
import { Storage } from '@google-cloud/storage';
import { GcsBucket, parseGcsUrl, type GcsRetention } from '../receipts/anchor/index.ts';
import { UsageError } from './io.ts';

/** A client for the real service, or for an emulator (fake-gcs-server) at `endpoint` without credentials. */
export function gcsStorage(endpoint: string | undefined): Storage {
  if (endpoint === undefined) return new Storage();
  if (!/^https?:\/\/[^/]+\/?$/.test(endpoint)) throw new UsageError(`--gcs-endpoint: expected http(s)://HOST:PORT, got ${JSON.stringify(endpoint)}`);
  // The client lets STORAGE_EMULATOR_HOST override apiEndpoint for JSON calls: two answers to "where", refused.
  if (process.env.STORAGE_EMULATOR_HOST) throw new UsageError(`--gcs-endpoint ${endpoint} and STORAGE_EMULATOR_HOST=${process.env.STORAGE_EMULATOR_HOST} disagree: unset one`);
  return new Storage({ apiEndpoint: endpoint.replace(/\/$/, ''), projectId: 'tai', useAuthWithCustomEndpoint: false });
}

/** The anchor bucket of `gs://BUCKET/PREFIX`; a malformed URL is a usage error. */
export function gcsBucket(url: string, endpoint: string | undefined, retention?: GcsRetention): GcsBucket {
  try {
    parseGcsUrl(url);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return new GcsBucket(gcsStorage(endpoint), url, retention);
}
