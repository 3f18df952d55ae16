import test from 'ava';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyCheckpoint } from '../checkpoint.ts';
import { rootFromLeafHashes } from '../compact-range.ts';
import { toHex } from '../merkle-hash.ts';
import { ReceiptChain, type ChainedEntry } from '../receipt-chain.ts';
import { generateNoteKey, parseSignerKey } from '../signed-note.ts';
import { LogPublisher, TileConflictError } from './log-publisher.ts';

const ORIGIN = 'example.com/tai-publisher-test';
const key = generateNoteKey(ORIGIN);
const body = (i: number) => ({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: i, allowed: true, reason: 'Allowed' });

/** A chain and a publisher writing to a fresh folder; the clock is the test's. */
async function setup(opts: { now?: () => number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-publisher-'));
  const chain = new ReceiptChain();
  const entries: ChainedEntry[] = [];
  const publisher = new LogPublisher({ dir, origin: ORIGIN, signer: parseSignerKey(key.signerKey), ...opts });
  const grow = (size: number): void => {
    while (entries.length < size) {
      const e = chain.append('decision', body(entries.length), 1_764_000_000_000_000 + entries.length);
      entries.push(e);
      publisher.add(e);
    }
  };
  const checkpoint = async () => verifyCheckpoint(await readFile(join(dir, 'checkpoint')), key.verifierKey, ORIGIN);
  return { dir, entries, publisher, grow, checkpoint };
}

const exists = (path: string) => stat(path).then(() => true, () => false);

// Defect 15.1: the size was read before the tile writes were awaited and the root after, so entries added in
// between were in the root but not in the size. Entries now arrive on every turn of the loop while publishing.
test('a checkpoint signs the root of its own size, however many entries arrive while it is written', async (t) => {
  const log = await setup();
  log.grow(300);
  let publishing = true;
  const feed = (): void => {
    if (!publishing || log.entries.length >= 3000) return;
    log.grow(log.entries.length + 1);
    setImmediate(feed);
  };
  setImmediate(feed);
  for (let round = 0; round < 10; round++) {
    await log.publisher.publish();
    const { checkpoint } = await log.checkpoint();
    const want = rootFromLeafHashes(log.entries.slice(0, checkpoint.size).map((e) => e.leafHash));
    t.is(toHex(checkpoint.root), toHex(want), `round ${round}: checkpoint of size ${checkpoint.size}`);
  }
  publishing = false;
  t.true(log.entries.length > 300 + 10, 'entries arrived while checkpoints were written');
});

// Defect 15.2: `0/000.p/15` was deleted as soon as the log grew to 26, while a client holding the checkpoint of
// size 15 still needed it.
test('a superseded partial tile stays for the retention time, then goes', async (t) => {
  let now = 1_000_000;
  const log = await setup({ now: () => now });
  log.grow(15);
  await log.publisher.publish();
  const before = await readFile(join(log.dir, 'tile/0/000.p/15'));
  log.grow(26);
  now += 60_000;
  await log.publisher.publish();
  t.deepEqual(await readFile(join(log.dir, 'tile/0/000.p/15')), before, 'the tiles of size 15 are all still there');
  t.true(await exists(join(log.dir, 'tile/entries/000.p/15')));
  t.true(await exists(join(log.dir, 'tile/0/000.p/26')));
  now += 10 * 60_000 - 1; // it was superseded by the publish at size 26
  log.grow(27);
  await log.publisher.publish();
  t.true(await exists(join(log.dir, 'tile/0/000.p/15')), 'not yet ten minutes after it was superseded');
  now += 1;
  log.grow(28);
  await log.publisher.publish();
  t.false(await exists(join(log.dir, 'tile/0/000.p/15')), 'ten minutes after');
  t.false(await exists(join(log.dir, 'tile/entries/000.p/15')));
  t.true(await exists(join(log.dir, 'tile/0/000.p/27')), 'superseded one publish ago: kept');
  t.true(await exists(join(log.dir, 'tile/0/000.p/28')));
});

test('partial tiles a previous run left behind are kept for the retention time, then deleted', async (t) => {
  let now = 0;
  const first = await setup({ now: () => now });
  first.grow(40);
  await first.publisher.publish();
  const resumed = new LogPublisher({ dir: first.dir, origin: ORIGIN, signer: parseSignerKey(key.signerKey), now: () => now, resume: await first.publisher.stateAt(40) });
  const chain = first.entries;
  // The resumed publisher sees entries 40… as the next run would.
  first.grow(41);
  resumed.add(chain[40]!);
  await resumed.publish();
  t.true(await exists(join(first.dir, 'tile/0/000.p/40')), "kept: the previous run's checkpoint may still be held");
  now += 10 * 60_000;
  first.grow(42);
  resumed.add(chain[41]!);
  await resumed.publish();
  t.false(await exists(join(first.dir, 'tile/0/000.p/40')));
  t.true(await exists(join(first.dir, 'tile/0/000.p/42')));
});

test('a full tile left short by an earlier full disk is rewritten whole; one holding other hashes is refused', async (t) => {
  const log = await setup();
  await mkdir(join(log.dir, 'tile/0'), { recursive: true });
  await writeFile(join(log.dir, 'tile/0/000'), new Uint8Array(0));
  log.grow(256);
  await log.publisher.publish();
  t.is((await readFile(join(log.dir, 'tile/0/000'))).length, 256 * 32);
  t.is((await log.checkpoint()).checkpoint.size, 256);

  const other = await setup();
  await mkdir(join(other.dir, 'tile/0'), { recursive: true });
  await writeFile(join(other.dir, 'tile/0/000'), new Uint8Array(256 * 32).fill(7));
  other.grow(256);
  await t.throwsAsync(other.publisher.publish(), { instanceOf: TileConflictError, message: /tile\/0\/000 holds other hashes/ });
  t.false(await exists(join(other.dir, 'checkpoint')), 'no checkpoint names a tile that disagrees with it');
});

// Review of issue 15: a state taken while a publish is writing the full tiles it drained left them out, so a run
// resumed from it (after a crash) never wrote them, yet signed checkpoints past them.
test('a state taken while a publish is writing its full tiles still holds them: the resumed run writes them', async (t) => {
  const log = await setup();
  log.grow(200);
  await log.publisher.publish();
  await mkdir(join(log.dir, 'tile/0/000'), { recursive: true }); // the full tile cannot be written (as on a full disk)
  log.grow(260); // tile 0/000 and bundle 000 complete
  const saving = log.publisher.stateAt(300); // a state.json save waiting for entries to be durable
  const publishing = log.publisher.publish();
  await new Promise((r) => setImmediate(r)); // the publish has drained at 260 and is writing
  log.grow(300);
  const state = await saving;
  await t.throwsAsync(publishing);
  t.true(state.tiles.pending.some((f) => f.path === 'tile/0/000'), 'the drained full tile is in the state');
  t.true(await Promise.all([log.publisher.stateAt(300), log.publisher.stateAt(300)]).then((s) => s.length === 2), 'two states at one size both resolve');

  await rm(join(log.dir, 'tile/0/000'), { recursive: true }); // the crash, and a disk with room again
  const resumed = new LogPublisher({ dir: log.dir, origin: ORIGIN, signer: parseSignerKey(key.signerKey), resume: state });
  await resumed.publish();
  t.is((await readFile(join(log.dir, 'tile/0/000'))).length, 256 * 32);
  t.true(await exists(join(log.dir, 'tile/entries/000')));
  t.is((await log.checkpoint()).checkpoint.size, 300);
});
