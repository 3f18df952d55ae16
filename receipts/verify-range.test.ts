import test from 'ava';
import { CompactRange } from './compact-range.ts';
import { hashLeaf } from './merkle-hash.ts';
import { perfectRoot } from './verify-range.ts';

test('perfectRoot is the CompactRange root of 1, 2, 4, … 256 leaves, and refuses other counts', (t) => {
  for (let width = 1; width <= 256; width *= 2) {
    const tree = new CompactRange();
    const leaves = new Uint8Array(width * 32);
    for (let i = 0; i < width; i++) {
      const leaf = hashLeaf(Uint8Array.of(i, width));
      leaves.set(leaf, i * 32);
      tree.append(leaf);
    }
    t.deepEqual(perfectRoot(leaves), tree.root(), `${width} leaves`);
  }
  t.throws(() => perfectRoot(new Uint8Array(3 * 32)), { instanceOf: RangeError });
});
