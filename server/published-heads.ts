// What this log has already published, read before it is opened: the recovered entries must reproduce it
// (issue 15: a restart never rewrites published history).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { logFolderReader, readCheckpointFile, readTileAt } from '../receipts/client/index.ts';
import type { PublishedHead, ReadLeafTile } from '../receipts/store/index.ts';
import type { AnchorConfig } from './anchoring.ts';
import { gcsBucket } from './gcs-storage.ts';
import type { CommandIO } from './io.ts';

/**
 * The heads the log has shown the world: LOG/checkpoint (the last signed one served), the size in LOG/anchor.json
 * (anchored in a bucket) and, with --gcs, the bucket's latest anchored checkpoint. A local checkpoint that does
 * not parse (it is written whole, so only damage or a log from before that can leave it so) is reported and skipped; so is a
 * bucket that cannot be read now (anchor.json still holds the anchored size) or that another key signs (anchoring
 * refuses it when it starts).
 */
export async function publishedHeads(c: { logDir: string; anchor: AnchorConfig | undefined; origin: string; verifierKey: string; io: CommandIO }): Promise<PublishedHead[]> {
  const heads = [await localCheckpoint(c.logDir, c.io), await anchoredSize(c.logDir)];
  if (c.anchor) heads.push(await bucketCheckpoint({ ...c, anchor: c.anchor }));
  return heads.filter((h) => h !== undefined);
}

async function localCheckpoint(logDir: string, io: CommandIO): Promise<PublishedHead | undefined> {
  const path = join(logDir, 'checkpoint');
  // Parsed, not verified: the folder's own, which this server wrote; the audit checks its root against the entries.
  const read = await readCheckpointFile(logFolderReader(logDir), { verifierKey: undefined });
  if (read === undefined) return undefined;
  if ('invalid' in read) {
    io.err(`tai: ${path} is unreadable (${read.invalid.message}); checking the entries against the anchored checkpoint only, if any. The next publish replaces it`);
    return undefined;
  }
  return { source: path, size: read.checkpoint.size, root: read.checkpoint.root };
}

async function anchoredSize(logDir: string): Promise<PublishedHead | undefined> {
  const path = join(logDir, 'anchor.json');
  const saved = await readFile(path, 'utf8').then((t) => JSON.parse(t) as { anchoredSize?: unknown }, () => undefined);
  const size = saved?.anchoredSize;
  return typeof size === 'number' && Number.isSafeInteger(size) && size > 0 ? { source: path, size, root: undefined } : undefined;
}

async function bucketCheckpoint(c: { anchor: AnchorConfig; origin: string; verifierKey: string; io: CommandIO }): Promise<PublishedHead | undefined> {
  const location = `${c.anchor.url.replace(/\/+$/, '')}/${c.origin}`;
  const bucket = gcsBucket(location, c.anchor.endpoint);
  // The bucket's own read error, not bucketLogReader's: the message below names the object itself.
  const read = await readCheckpointFile((path) => bucket.get(path), { verifierKey: c.verifierKey }).catch(
    (e: unknown) => void c.io.err(`tai: cannot read ${location}/checkpoint (${(e as Error).message}); the entries are checked against the local checkpoint and anchor.json only`),
  );
  // Another log's is skipped here: anchoring refuses to start on it.
  if (read === undefined || 'invalid' in read) return undefined;
  return { source: `${location}/checkpoint`, size: read.checkpoint.size, root: read.checkpoint.root };
}

/** Level-0 tiles of the log folder (a partial tile cut from a wider one when it is gone), undefined if missing. */
export function localLeafTile(logDir: string): ReadLeafTile {
  return (k, width) => readTileAt(logDir, { kind: 'hash', level: 0, index: k, width }).catch(() => undefined);
}
