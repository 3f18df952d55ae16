// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text that commits to the log's
// tree head — origin line, decimal tree size, base64 root hash, optional extension lines — and its
// signing and verification as a C2SP signed note. Pure: no I/O, no clock.
import { HASH_SIZE } from './merkle-hash.ts';
import { decodeBase64Strict, openNote, signNote } from './signed-note.ts';
import type { NoteSigner, NoteVerifier, OpenedNote } from './signed-note.ts';

/** Why a checkpoint was refused. */
export type CheckpointErrorCode =
  /** The text does not end in "\n", or a line holds a control character. */
  | 'BadText'
  /** Fewer than three lines (origin, size, root). */
  | 'MissingLine'
  /** The origin line is empty. */
  | 'EmptyOrigin'
  /** The size is not decimal without leading zeros ("0" for the empty tree) or is past 2^53 − 1. */
  | 'BadSize'
  /** The root is not canonical standard base64 of 32 bytes. */
  | 'BadRoot'
  /** An extension line is empty. */
  | 'EmptyExtension'
  /** The origin is not the expected one. */
  | 'WrongOrigin';

/** A refused checkpoint: `code` says why; `line` is the 1-based line, 0 when not about one line. */
export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  readonly line: number;

  constructor(code: CheckpointErrorCode, line: number, detail: string) {
    super(`${code}: ${line > 0 ? `checkpoint line ${line}: ` : ''}${detail}`);
    this.name = 'CheckpointError';
    this.code = code;
    this.line = line;
  }
}

/** A tree head: the log's origin, its size in leaves, its RFC 6962 root, and opaque extension lines. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function checkOrigin(origin: string): void {
  if (origin.length === 0) throw new CheckpointError('EmptyOrigin', 1, 'the origin must be non-empty');
}

function parseSize(text: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new CheckpointError('BadSize', 2, `size ${JSON.stringify(text.slice(0, 40))}: want ASCII decimal without leading zeros`);
  const size = Number(text);
  if (!Number.isSafeInteger(size)) throw new CheckpointError('BadSize', 2, `size ${text}: want at most 2^53 − 1`);
  return size;
}

function parseRoot(text: string): Uint8Array {
  const root = decodeBase64Strict(text);
  if (root === undefined) throw new CheckpointError('BadRoot', 3, `root ${JSON.stringify(text.slice(0, 60))} is not canonical standard base64`);
  if (root.length !== HASH_SIZE) throw new CheckpointError('BadRoot', 3, `root: got ${root.length} bytes, want ${HASH_SIZE}`);
  return root;
}

function checkLines(lines: readonly string[]): void {
  lines.forEach((line, i) => {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f]/.test(line)) throw new CheckpointError('BadText', i + 1, 'control characters are not allowed');
  });
  lines.slice(3).forEach((line, i) => {
    if (line.length === 0) throw new CheckpointError('EmptyExtension', i + 4, 'extension lines must be non-empty');
  });
}

/**
 * Parses checkpoint note text strictly per tlog-checkpoint: at least three lines, each ending in
 * "\n"; origin non-empty; size ASCII decimal without leading zeros (except "0"), at most 2^53 − 1;
 * root canonical base64 of 32 bytes; extension lines non-empty. Throws {@link CheckpointError}.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('BadText', 0, 'checkpoint text must end in "\\n"');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('MissingLine', lines.length + 1, `got ${lines.length} lines, want origin, size and root`);
  checkLines(lines);
  const [origin, size, root] = lines as [string, string, string];
  checkOrigin(origin);
  return { origin, size: parseSize(size), root: parseRoot(root), extensions: lines.slice(3) };
}

/**
 * Checkpoint note text: origin, size, base64 root, extension lines, each ending in "\n".
 * Preconditions, checked: no line holds "\n", and the text parses back under
 * {@link parseCheckpoint} (non-empty origin, safe-integer size ≥ 0, 32-byte root, non-empty extensions).
 */
export function formatCheckpoint(checkpoint: { origin: string; size: number; root: Uint8Array; extensions?: readonly string[] }): string {
  const { origin, size, root, extensions = [] } = checkpoint;
  if (!Number.isSafeInteger(size) || size < 0) throw new CheckpointError('BadSize', 2, `size: got ${size}, want a safe integer ≥ 0`);
  if (root.length !== HASH_SIZE) throw new CheckpointError('BadRoot', 3, `root: got ${root.length} bytes, want ${HASH_SIZE}`);
  if ([origin, ...extensions].some((line) => line.includes('\n'))) {
    throw new CheckpointError('BadText', 0, 'origin and extension lines must not contain "\\n"');
  }
  const text = [origin, String(size), toBase64(root), ...extensions].map((line) => `${line}\n`).join('');
  parseCheckpoint(text);
  return text;
}

/** Formats `checkpoint` and signs it as a signed note with `signerKey`; returns the note text. */
export function signCheckpoint(
  checkpoint: { origin: string; size: number; root: Uint8Array; extensions?: readonly string[] },
  signerKey: string | NoteSigner,
): string {
  return signNote(formatCheckpoint(checkpoint), signerKey);
}

/** A verified checkpoint and the note it came in. */
export interface VerifiedCheckpoint {
  checkpoint: Checkpoint;
  note: OpenedNote;
}

/**
 * Opens a signed checkpoint: the note must carry a valid signature by `verifierKey` (NoteError
 * otherwise: UnverifiedNote, InvalidSignature, malformed note codes), its text must parse as a
 * checkpoint (CheckpointError), and when `expectedOrigin` is given the origin must equal it
 * (WrongOrigin). Signatures by other keys are ignored and listed in `note.unverified`.
 */
export function verifyCheckpoint(noteBytes: Uint8Array | string, verifierKey: string | NoteVerifier, expectedOrigin?: string): VerifiedCheckpoint {
  const note = openNote(noteBytes, [verifierKey]);
  const checkpoint = parseCheckpoint(note.text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new CheckpointError('WrongOrigin', 1, `origin: got ${JSON.stringify(checkpoint.origin)}, want ${JSON.stringify(expectedOrigin)}`);
  }
  return { checkpoint, note };
}
