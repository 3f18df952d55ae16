// `tai log rebuild-entries DIR`: a log folder's entry file made again from the published copy of the log (its
// own tiles, a URL, or the anchor bucket), for an operator whose server refused to start because the entry file
// lost or changed published entries (docs/deploy.md). Writes a new file beside it; never replaces one.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex, verifyLog } from '../receipts/index.ts';
import { EXIT, stringOption, UsageError } from './io.ts';
import { defectLine, type LogSubcommand } from './log-subcommand.ts';
import { logReader, verifierKeyFrom } from './log-source.ts';

/** Frames gathered before one write: a few MB. */
const FLUSH_ENTRIES = 8192;

/** Appends entries to the file `fd` as frames (uint32 big-endian length ‖ bytes), in groups. */
class FrameWriter {
  readonly #fd: number;
  #pending: Buffer[] = [];

  constructor(fd: number) {
    this.#fd = fd;
  }

  add(bytes: Uint8Array): void {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(bytes.length);
    this.#pending.push(header, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (this.#pending.length >= 2 * FLUSH_ENTRIES) this.flush();
  }

  flush(): void {
    const buf = Buffer.concat(this.#pending);
    this.#pending = [];
    for (let at = 0; at < buf.length; ) at += writeSync(this.#fd, buf, at);
  }
}

export const rebuildEntriesCommand: LogSubcommand = {
  flags: ['from', 'vkey', 'gcs-endpoint'],
  args: ['DIR'],
  async run({ args, values, io }) {
    const dir = args[0]!;
    const from = stringOption(values, 'from') ?? dir;
    const read = logReader(from, { gcsEndpoint: stringOption(values, 'gcs-endpoint') });
    const verifierKey = await verifierKeyFrom(stringOption(values, 'vkey'), from.startsWith('gs://') || /^https?:/.test(from) ? dir : from);
    const out = join(dir, 'entries.rebuilt');
    const fd = openNew(out);
    const writer = new FrameWriter(fd);
    let result: Awaited<ReturnType<typeof verifyLog>>;
    try {
      result = await verifyLog({ read, verifierKey, onEntry: (e) => writer.add(e.bytes) });
      writer.flush();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (!result.ok) {
      await rm(out); // made by this run: a copy that does not verify is no copy
      for (const d of result.defects) io.err(defectLine(d));
      io.err(`✗ ${from} does not verify, so nothing was rebuilt from it: try another copy (--from the anchor bucket, gs://BUCKET/PREFIX/ORIGIN)`);
      return EXIT.finding;
    }
    const cp = result.checkpoint!;
    io.out(`✓ wrote the ${cp.size} published entries of ${from} (checkpoint root ${toHex(cp.root)}, verified) to ${out}`);
    io.out(`  to use it: mv ${join(dir, 'entries')} ${join(dir, 'entries.damaged')} && mv ${out} ${join(dir, 'entries')}, then start tai serve again`);
    io.out('  entries recorded after that checkpoint are not in the published copy: only a backup of the entry file holds them');
    return EXIT.ok;
  },
};

function openNew(path: string): number {
  try {
    return openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new UsageError(`${path} exists (an earlier rebuild?): move it away first; rebuild-entries never replaces a file`, { cause: e });
  }
}
