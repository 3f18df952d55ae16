// `tai log query`: the entries of a verified log that match a filter, streamed as JSON lines or CSV while the
// log is verified (verifyLog's onEntry), so memory stays flat however long the log is.
import { matchesQuery, type QueryFilter } from '../ledger/index.ts';
import { RECEIPT_KINDS, TILE_WIDTH, isReceiptKind, toHex, verifyLog, type CborValue, type ChainedEntry, type ReceiptKind } from '../receipts/index.ts';
import { EXIT, UsageError, stringOption, type CommandIO } from './io.ts';
import { defectLine, jsonSafe, type LogOptionValues, type LogSubcommand } from './log-subcommand.ts';
import { logReader, verifierKeyFrom } from './log-source.ts';
import { parseRfc3339Micros, rfc3339FromMicros } from './rfc3339.ts';

export { matchesQuery, type QueryFilter } from '../ledger/index.ts';

export type QueryFormat = 'jsonl' | 'csv';

function nonEmpty(values: LogOptionValues, flag: string): string | undefined {
  const v = stringOption(values, flag);
  if (v === '') throw new UsageError(`--${flag}: must not be empty`);
  return v;
}

function kindOf(values: LogOptionValues): ReceiptKind | undefined {
  const kind = nonEmpty(values, 'kind');
  if (kind !== undefined && !isReceiptKind(kind)) throw new UsageError(`--kind: expected one of ${RECEIPT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  return kind;
}

function allowedOf(values: LogOptionValues): boolean | undefined {
  const outcome = nonEmpty(values, 'outcome');
  if (outcome === undefined) return undefined;
  if (outcome !== 'allowed' && outcome !== 'denied') throw new UsageError(`--outcome: expected allowed or denied, got ${JSON.stringify(outcome)}`);
  return outcome === 'allowed';
}

function timeOf(values: LogOptionValues, flag: 'since' | 'until'): number | undefined {
  const text = stringOption(values, flag);
  return text === undefined ? undefined : parseRfc3339Micros(text, `--${flag}`);
}

/** The filter the flags ask for; every bad value is a UsageError naming its flag and what it expected. */
export function parseQueryFilter(values: LogOptionValues): QueryFilter {
  const filter: QueryFilter = { tenant: nonEmpty(values, 'tenant'), kind: kindOf(values), allowed: allowedOf(values), reason: nonEmpty(values, 'reason') };
  filter.since = timeOf(values, 'since');
  filter.until = timeOf(values, 'until');
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new UsageError(`--since ${stringOption(values, 'since')} is not before --until ${stringOption(values, 'until')}: nothing could match`);
  }
  for (const k of Object.keys(filter) as (keyof QueryFilter)[]) if (filter[k] === undefined) delete filter[k];
  return filter;
}

export function parseQueryFormat(values: LogOptionValues): QueryFormat {
  const format = stringOption(values, 'format') ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format: expected jsonl or csv, got ${JSON.stringify(format)}`);
  return format;
}

/** One entry as a JSON line: index, time (RFC 3339, microseconds), kind, leafHash, body (bytes as hex). */
export function jsonLine(e: ChainedEntry): string {
  const { receipt } = e;
  return JSON.stringify({ index: e.index, time: rfc3339FromMicros(receipt.time), kind: receipt.kind, leafHash: toHex(e.leafHash), body: jsonSafe(receipt.body) });
}

/** The fixed CSV columns; `subject` is a decision's subject, a threshold's metric or a reconcile's resource. */
export const CSV_COLUMNS = ['index', 'time', 'kind', 'tenant', 'op', 'subject', 'amount', 'allowed', 'reason', 'used', 'limit', 'leafHash'] as const;

/** One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF, with quotes doubled. */
export function csvField(value: CborValue | undefined): string {
  if (value === undefined || value === null) return '';
  const text = value instanceof Uint8Array ? toHex(value) : typeof value === 'object' ? JSON.stringify(jsonSafe(value)) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One entry as a CSV row in {@link CSV_COLUMNS} order; fields a body lacks are empty. */
export function csvRow(e: ChainedEntry): string {
  const { body, time, kind } = e.receipt;
  const subject = body.subject ?? body.metric ?? body.resource;
  const fields = [e.index, rfc3339FromMicros(time), kind, body.tenant, body.op, subject, body.amount, body.allowed, body.reason, body.used, body.limit, toHex(e.leafHash)];
  return fields.map(csvField).join(',');
}

/**
 * Matching lines of the entry bundle being verified, held back until verifyLog has checked that bundle's hash
 * tiles (it moves on to the next bundle) or the whole log (the last bundle waits for the root check): memory is
 * one bundle, and a tampered entry is not printed. Earlier lines are final only once the root matches too.
 */
class HeldBundle {
  #lines: string[] = [];
  printed = 0;
  readonly #io: CommandIO;

  constructor(io: CommandIO) {
    this.#io = io;
  }

  hold(line: string): void {
    this.#lines.push(line);
  }

  flush(): void {
    for (const l of this.#lines) this.#io.out(l);
    this.printed += this.#lines.length;
    this.#lines = [];
  }
}

export const queryCommand: LogSubcommand = {
  flags: ['vkey', 'tenant', 'kind', 'outcome', 'reason', 'since', 'until', 'format'],
  args: ['DIR|URL'],
  async run({ args, values, io }) {
    const location = args[0]!;
    const filter = parseQueryFilter(values);
    const format = parseQueryFormat(values);
    const verifierKey = await verifierKeyFrom(stringOption(values, 'vkey'), location);
    const line = format === 'csv' ? csvRow : jsonLine;
    if (format === 'csv') io.out(CSV_COLUMNS.join(','));
    const out = new HeldBundle(io);
    const onEntry = (e: ChainedEntry): void => {
      if (e.index % TILE_WIDTH === 0) out.flush(); // verifyLog reached the next bundle: the last one's tiles matched
      if (matchesQuery(filter, e.receipt)) out.hold(line(e));
    };
    const result = await verifyLog({ read: logReader(location), verifierKey, onEntry });
    if (!result.ok) {
      for (const d of result.defects) io.err(defectLine(d));
      io.err(`✗ ${location}: verification failed; the ${out.printed} lines printed are from earlier bundles, checked by chain and tiles but not proven by the checkpoint`);
      return EXIT.finding;
    }
    out.flush();
    const matched = out.printed;
    io.err(`✓ ${location}: ${result.entries} entries verified, ${matched} matched`);
    return EXIT.ok;
  },
};
