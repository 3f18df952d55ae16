import test from 'ava';
import fc from 'fast-check';
import { nodeAtFromLeaves } from './proofs.ts';
import { ReceiptChain } from './receipt-chain.ts';
import { TileBuilder, type TileFile } from './tile-builder.ts';
import { encodeEntryBundle, hashTile, tileRefPath, tilesChanged } from './tlog-tiles.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The files tlog-tiles says a tree of `size` consists of, computed from scratch. */
function reference(entries: Uint8Array[], leaves: Uint8Array[]): Map<string, string> {
  const nodeAt = nodeAtFromLeaves(leaves);
  const out = new Map<string, string>();
  for (const ref of tilesChanged(0, leaves.length)) {
    const bytes = ref.kind === 'entries'
      ? encodeEntryBundle(entries.slice(ref.index * 256, ref.index * 256 + ref.width))
      : hashTile(ref.level, ref.index, ref.width, nodeAt);
    out.set(tileRefPath(ref), hex(bytes));
  }
  return out;
}

test('property: the files built incrementally, drained at random points, are exactly the tlog-tiles layout', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 5 }), (growths) => {
      const chain = new ReceiptChain();
      const builder = new TileBuilder();
      const written = new Map<string, TileFile>();
      const entries: Uint8Array[] = [];
      const leaves: Uint8Array[] = [];
      for (const n of growths) {
        for (let i = 0; i < n; i++) {
          const e = chain.append('lifecycle', { event: 'start', version: String(entries.length) }, 0);
          entries.push(e.bytes);
          leaves.push(e.leafHash);
          builder.add(e);
        }
        for (const f of builder.drain()) {
          if (written.get(f.path)?.full) return false; // a full tile is written once
          written.set(f.path, f);
        }
      }
      const want = reference(entries, leaves);
      for (const [path, bytes] of want) if (written.get(path) === undefined || hex(written.get(path)!.bytes) !== bytes) return false;
      return true;
    }),
    { numRuns: 60 },
  );
  t.pass();
});
