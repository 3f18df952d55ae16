import type { TenantHistory } from '../http/ui/dashboard-source.ts';
import { TenantFold } from '../ledger/index.ts';
import { decodeEntryBundle, decodeReceipt, TILE_WIDTH } from '../receipts/index.ts';
import { logFolderReader, readCheckpointFile, readTile } from '../receipts/client/index.ts';

/** The most entries a tenant page reads: the newest, within a page's budget (about 16 k decodes). */
export const HISTORY_ENTRIES = 16_384;

const NO_HASH = new Uint8Array(0);

/**
 * One tenant's history from the newest published entries of the log folder (its entry bundles, as `tai log`
 * reads them): its recent decisions, threshold crossings and policy changes, through ledger/'s TenantFold, the
 * audit report's reading. Undefined before anything is published (or while the checkpoint is unreadable).
 */
export async function tenantHistory(logDir: string, tenant: string, o: { limit: number }): Promise<TenantHistory | undefined> {
  const read = logFolderReader(logDir);
  // The server's own checkpoint: parsed, not verified (nothing to pin it against here).
  const published = await readCheckpointFile(read, { verifierKey: undefined });
  if (published === undefined || 'invalid' in published) return undefined;
  const { size } = published.checkpoint;
  const from = Math.max(0, size - HISTORY_ENTRIES);
  const fold = new TenantFold(tenant, { limit: o.limit });
  for (let bundle = Math.floor(from / TILE_WIDTH); bundle * TILE_WIDTH < size; bundle++) {
    const width = Math.min(TILE_WIDTH, size - bundle * TILE_WIDTH);
    const entries = decodeEntryBundle(await readTile(read, { kind: 'entries', index: bundle, width }, { widerPartials: true }), width);
    entries.forEach((bytes, i) => {
      const index = bundle * TILE_WIDTH + i;
      if (index >= from) fold.add({ index, bytes, receipt: decodeReceipt(bytes), leafHash: NO_HASH, nodes: [] });
    });
  }
  return { view: fold.view(), from, size };
}
