// The entries file read for checking, never for writing: frame by frame (to name what differs), or hashed in
// bulk (the start-up audit's hot loop).
import { createHash, hash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { LEAF_PREFIX } from '../merkle-hash.ts';
import { FRAME_HEADER, FrameTooLargeError, MAX_ENTRY_BYTES, readFrames } from './entry-file.ts';

/** One frame of the entries file as the audit sees it: `bytes` undefined when it is torn or unreadable. */
export interface AuditedFrame {
  index: number;
  offset: number;
  end: number;
  bytes: Uint8Array | undefined;
  /** Why `bytes` is undefined. */
  problem?: string;
  /** The frame claims more than the entry limit (a log written before it, or damage): the server refuses it. */
  oversize?: true;
}

/**
 * The frames of the entries file at `path` in order (none when the file does not exist), read only. A frame the
 * file ends inside, or one claiming an impossible length, comes last with `bytes` undefined and a `problem`.
 */
export async function* auditFrames(path: string): AsyncGenerator<AuditedFrame> {
  const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (handle === undefined) return;
  try {
    yield* framesOf(handle, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
}

async function* framesOf(handle: FileHandle, fileLength: number): AsyncGenerator<AuditedFrame> {
  let index = 0;
  let offset = 0;
  try {
    for await (const f of readFrames(handle, fileLength, 0)) {
      if (f.bytes === undefined) return yield { index, offset, end: f.end, bytes: undefined, problem: `the file ends inside it (${f.end - offset} of its bytes are there)` };
      yield { index: index++, offset, end: f.end, bytes: f.bytes };
      offset = f.end;
    }
  } catch (e) {
    yield { index, offset, end: fileLength, bytes: undefined, problem: (e as Error).message, ...(e instanceof FrameTooLargeError && { oversize: true as const }) };
  }
}

const SCAN_CHUNK = 8 * 1024 * 1024;

/**
 * The hot loop of the audit: reads the file in large chunks and hashes each of its first `upTo` frames where it
 * lies, framing and hashing synchronously within a chunk (an async step per frame would cost more than the
 * hash). Starts at byte `from`, which must be where a frame starts (default: the first). Returns where it stopped
 * early at a torn or unreadable frame, if it did.
 */
export async function hashFrames(path: string, upTo: number, onLeaf: (leaf: Uint8Array, offset: number, end: number) => void, from = 0): Promise<Omit<AuditedFrame, 'index' | 'bytes'> | undefined> {
  const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (handle === undefined) return { offset: 0, end: 0, problem: 'the file does not exist' };
  try {
    const fileLength = (await handle.stat()).size;
    let buf = Buffer.alloc(0);
    let bufStart = from; // file offset of buf[0]
    let count = 0;
    while (count < upTo) {
      const framed = frameLeaves(buf, { bufStart, upTo: upTo - count, onLeaf });
      count += framed.count;
      if (framed.problem) return { offset: framed.offset, end: fileLength, problem: framed.problem };
      if (count === upTo) return undefined;
      const readTo = bufStart + buf.length;
      if (readTo >= fileLength) return framed.offset < fileLength ? { offset: framed.offset, end: fileLength, problem: `the file ends inside it (${fileLength - framed.offset} of its bytes are there)` } : { offset: fileLength, end: fileLength, problem: 'the file ends before it' };
      const chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, fileLength - readTo));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, readTo);
      buf = Buffer.concat([buf.subarray(framed.offset - bufStart), chunk.subarray(0, bytesRead)]);
      bufStart = framed.offset;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Hashes the whole frames in `buf` (at most `upTo`): the leaf hash SHA-256(LEAF_PREFIX ‖ entry) of
 * merkle-hash.ts, taken where the entry lies by writing the prefix over the last byte of its length header for
 * the moment of hashing. Returns how many, and the file offset of the first frame not taken.
 */
function frameLeaves(buf: Buffer, c: { bufStart: number; upTo: number; onLeaf: (leaf: Uint8Array, offset: number, end: number) => void }): { count: number; offset: number; problem?: string } {
  let at = 0;
  let count = 0;
  while (count < c.upTo && at + FRAME_HEADER <= buf.length) {
    const size = buf.readUInt32BE(at);
    if (size > MAX_ENTRY_BYTES) return { count, offset: c.bufStart + at, problem: `its frame claims ${size} bytes: not a TAI entry file, or corrupt` };
    if (at + FRAME_HEADER + size > buf.length) break;
    const held = buf[at + FRAME_HEADER - 1]!;
    buf[at + FRAME_HEADER - 1] = LEAF_PREFIX;
    const leaf = hash('sha256', buf.subarray(at + FRAME_HEADER - 1, at + FRAME_HEADER + size), 'buffer');
    buf[at + FRAME_HEADER - 1] = held;
    c.onLeaf(new Uint8Array(leaf.buffer, leaf.byteOffset, leaf.byteLength), c.bufStart + at, c.bufStart + at + FRAME_HEADER + size);
    at += FRAME_HEADER + size;
    count++;
  }
  return { count, offset: c.bufStart + at };
}

/**
 * One SHA-256 over the file's first `length` bytes, read in large chunks, not yet finished (copy() it to digest, or
 * update it with what follows). Undefined when the file holds fewer bytes.
 */
export async function hashPrefix(path: string, length: number): Promise<Hash | undefined> {
  const digest = createHash('sha256');
  if (length === 0) return digest;
  const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (handle === undefined) return undefined;
  try {
    const chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, length));
    for (let at = 0; at < length; ) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, length - at), at);
      if (bytesRead === 0) return undefined;
      digest.update(chunk.subarray(0, bytesRead));
      at += bytesRead;
    }
    return digest;
  } finally {
    await handle.close();
  }
}
