// The options of `tai log`, declared once: what `tai log` parses and what its --help lists. Each subcommand
// names the ones it takes (LogSubcommand.flags); any other is refused for it.
import type { FlagTable } from './flags.ts';

/** `tai log`'s options, in --help order. */
export const LOG_FLAGS = {
  vkey: { type: 'string', arg: 'KEY|FILE', help: [
    'the signed-note verifier key to pin (default for a folder: signing.key.pub beside it,',
    'where tai serve --log makes it); for verify, a FILE may hold one key a line',
  ] },
  log: { type: 'string', arg: 'DIR|URL', help: 'the log for show, proof and consistency (default ./.tai/log)' },
  key: { type: 'string', arg: 'FILE', help: [
    'proof: the checkpoint signing key (default: signing.key beside the log folder, as for',
    'tai serve; for a URL, ./.tai/signing.key)',
  ] },
  checkpoint: { type: 'string', arg: 'FILE', help: [
    'verify-receipt: a checkpoint of the log (e.g. one saved from GET /log/checkpoint) that',
    "must have the receipt's tree size and root: it proves the size",
  ] },
  receipt: { type: 'string', arg: 'FILE', help: "verify-receipt: the receipt (binary or hex), as 'proof --out' writes it" },
  entry: { type: 'string', arg: 'FILE', help: "verify-receipt: the entry it proves (binary or hex), as 'proof --out' writes it to FILE.entry" },
  out: { type: 'string', arg: 'FILE', help: [
    'proof: write the receipt (binary) to FILE and the entry to FILE.entry;',
    'keygen: where the signer key goes',
  ] },
  tenant: { type: 'string', arg: 'T' },
  kind: { type: 'string', arg: 'decision|admission|reconcile|threshold|lifecycle' },
  reason: { type: 'string', arg: 'R', help: 'query: entries whose body.tenant, kind or body.reason is exactly this' },
  outcome: { type: 'string', arg: 'allowed|denied', help: 'query: decisions with body.allowed true or false' },
  since: { type: 'string', arg: 'TIME' },
  until: { type: 'string', arg: 'TIME', help: 'query: since ≤ time < until; TIME is RFC 3339, e.g. 2025-06-01T12:00:00Z or 2025-06-01' },
  format: { type: 'string', arg: 'jsonl|csv', help: 'query: the output format (default jsonl)' },
  'anchored-against': { type: 'string', arg: 'gs://BUCKET/PREFIX', help: 'verify: also check the log against the checkpoints anchored in this bucket' },
  from: { type: 'string', arg: 'DIR|URL|gs://BUCKET/PREFIX/ORIGIN', help: 'rebuild-entries: where the published copy is read (default DIR)' },
  'all-origins': { type: 'boolean', help: 'verify: every log anchored under each gs://BUCKET/PREFIX given (<origin>/checkpoint)' },
  'gcs-endpoint': { type: 'string', arg: 'URL', help: [
    "verify, rebuild-entries: a Cloud Storage emulator (fake-gcs-server) instead of Google's, without credentials;",
    'without it the client uses Application Default Credentials',
  ] },
  json: { type: 'boolean', help: 'print the verification or the consistency proof as JSON' },
} as const satisfies FlagTable;

/** The name of a `tai log` option. */
export type LogFlag = keyof typeof LOG_FLAGS;
