// Power-loss sweep (issue 15, fault suite): a real `tai serve` (in process, sync durability) takes decisions
// while every fdatasync of its entry file is recorded at the file edge. At each one, the log folder is captured as
// a power loss at that moment could leave it — the entry file cut to its last synced length (the group being
// synced lost), or with that group torn half-way, or whole, or zero-filled wholly or from half-way (its size
// reached the disk, not all its data); the other files as they were (replaced by rename), or gone (they are never
// fsynced). Each image is started with the real startServer: it must start (damage that is only an unfinished
// write is never a reason to refuse), hold every decision answered before that moment at its index, and verify
// afterwards (published files and entry file).
import test from 'ava';
import { fstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { toHex, verifyLog } from '../receipts/index.ts';
import { compareEntryFile } from '../receipts/store/index.ts';
import { folderFeed } from '../server/embedded-feed.ts';
import { startServer } from '../server/governor-server.ts';

interface Answer {
  index: number;
  leafHash: string;
}

/** The log folder at one moment: each file's bytes, and how many answers had come back by then. */
interface Image {
  files: Map<string, Buffer>;
  answered: number;
  /** Length of the entry file at its last completed fdatasync. */
  synced: number;
}

/**
 * `zeroed`: the group's length reached the disk but not its data (a filesystem that persists the size before the
 * data, or a failed fdatasync whose pages were dropped): the unsynced bytes read back as zeros. `half zeroed`:
 * the first half of its data reached the disk, the rest reads as zeros (lost from a page boundary on).
 */
type Variant = 'synced' | 'torn' | 'whole' | 'zeroed' | 'half zeroed' | 'entries only';
const VARIANTS: readonly Variant[] = ['synced', 'torn', 'whole', 'zeroed', 'half zeroed', 'entries only'];

function serve(root: string, logDir: string, out: string[]) {
  return startServer({
    feed: folderFeed('config/samples'),
    listen: { host: '127.0.0.1', port: 0 },
    logDir,
    keyPath: join(root, 'signing.key'),
    origin: 'tai.test/power-loss',
    stateEvery: 15,
    durability: 'sync',
    auth: { mode: 'none' },
    clock: { now: () => Date.now() },
    io: { out: (l) => out.push(l), err: (l) => out.push(l) },
  });
}

function capture(logDir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const e of readdirSync(logDir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) files.set(relative(logDir, join(e.parentPath, e.name)), readFileSync(join(e.parentPath, e.name)));
  }
  return files;
}

/** Records an image at the start of every fdatasync of `entries` (wrapping FileHandle at the file edge). */
async function recordSyncs(entries: string, onSync: (synced: number) => void): Promise<() => void> {
  const probe = await open(join(dirname(entries), '..', 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const original = proto.datasync;
  let synced = 0;
  proto.datasync = async function (this: { fd: number }) {
    const isEntries = readlinkSync(`/proc/self/fd/${this.fd}`) === entries;
    const length = fstatSync(this.fd).size;
    if (isEntries) onSync(synced);
    await original.call(this);
    if (isEntries) synced = length;
  };
  return () => void (proto.datasync = original);
}

/** Writes `image` as `variant` into a fresh folder. */
function reconstruct(image: Image, variant: Variant, logDir: string): void {
  for (const [path, bytes] of image.files) {
    if (variant === 'entries only' && path !== 'entries') continue;
    if (path.endsWith('.tmp')) continue;
    const unsynced = bytes.length - image.synced;
    const half = image.synced + Math.ceil(unsynced / 2);
    const keep = path !== 'entries' || variant === 'whole' ? bytes.length : variant === 'torn' || variant === 'half zeroed' ? half : image.synced;
    // The zeroed variants keep the file's length: the bytes past what they keep read as zeros.
    const zeros = path === 'entries' && variant.endsWith('zeroed') ? bytes.length - (variant === 'zeroed' ? image.synced : half) : 0;
    mkdirSync(dirname(join(logDir, path)), { recursive: true });
    writeFileSync(join(logDir, path), Buffer.concat([bytes.subarray(0, keep), Buffer.alloc(zeros)]));
  }
}

test('power loss at every fdatasync of a recorded run: the server starts, keeps every answered decision, and verifies', async (t) => {
  t.timeout(900_000);
  const root = await mkdtemp(join(tmpdir(), 'tai-power-loss-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const logDir = join(root, 'log');
  mkdirSync(logDir, { recursive: true });
  const answers: Answer[] = [];
  const images: Image[] = [];
  const stopRecording = await recordSyncs(join(realpathSync(logDir), 'entries'), (synced) => images.push({ files: capture(logDir), answered: answers.length, synced }));
  try {
    const server = await serve(root, logDir, []);
    // Three callers for ~2.5 s: groups of one to three decisions, two or three checkpoints, state saves every 15.
    const caller = async (): Promise<void> => {
      for (let i = 0; i < 25; i++) {
        const res = await fetch(`${server.url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'initech', metric: 'api-calls', amount: 1 }) });
        const body = (await res.json()) as { receipt: Answer };
        answers.push(body.receipt);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await Promise.all([caller(), caller(), caller()]);
    await server.stop();
  } finally {
    stopRecording();
  }
  t.true(images.length > 30, `sync points recorded: ${images.length}`);
  t.true(images.some((i) => i.files.has('checkpoint') && i.files.has('state.json')), 'some images hold a checkpoint and a saved state');
  const vkey = (await readFile(join(root, 'signing.key.pub'), 'utf8')).trim();
  let started = 0;
  let missized = 0;
  for (const [n, image] of images.entries()) {
    for (const variant of VARIANTS) {
      const dir = join(root, `image-${n}-${variant.replace(' ', '-')}`);
      reconstruct(image, variant, dir);
      const out: string[] = [];
      const server = await serve(root, dir, out).catch((e: unknown) => t.fail(`sync point ${n} (${variant}): refused to start: ${(e as Error).message}`));
      if (!server) continue;
      await server.stop();
      started++;
      if (out.some((l) => /signs the root of the first/.test(l))) missized++;
      const leaves = new Map<number, string>();
      const read = async (p: string) => readFile(join(dir, p)).then((b) => new Uint8Array(b), () => undefined);
      const verified = await verifyLog({ read, verifierKey: vkey, onEntry: (e) => leaves.set(e.index, toHex(e.leafHash)) });
      t.true(verified.ok, `sync point ${n} (${variant}): ${JSON.stringify(verified.defects)}`);
      const compared = await compareEntryFile(join(dir, 'entries'), { size: verified.checkpoint!.size, read });
      t.deepEqual(compared.defects, [], `sync point ${n} (${variant}): the entry file matches the published log`);
      const lost = answers.slice(0, image.answered).filter((a) => leaves.get(a.index) !== a.leafHash);
      t.deepEqual(lost, [], `sync point ${n} (${variant}): every decision answered before it is in the log at its index`);
      await rm(dir, { recursive: true, force: true });
    }
  }
  t.is(started, images.length * VARIANTS.length);
  t.is(missized, 0, 'no checkpoint signs the root of more entries than its size (issue 15.1)');
  t.log(`${images.length} sync points × ${VARIANTS.length} images = ${started} starts, ${answers.length} answered decisions; ${missized} started over a checkpoint whose root is of more entries than its size`);
});
