/**
 * Builders for receipt bodies (design §5). Every body is a text-keyed map whose values pass the receipt
 * value rules: integers, text, booleans, null, byte strings, arrays and maps; no floats, no undefined.
 * Fields that do not apply are left out, never written as undefined. Digests given as hex are written as
 * 32-byte byte strings.
 */
import { ReceiptEncodeError } from './receipt.ts';
import type { CborMap, CborValue, ReceiptBody } from './receipt.ts';

/** Bytes of a SHA-256 digest. */
export const DIGEST_LENGTH = 32;

/** A decision as the governor answered it. */
export interface DecisionBodyInput {
  tenant: string;
  op: 'check' | 'consume' | 'rate';
  /** The feature (check), metric (consume) or rate name (rate). */
  subject: string;
  /** Units consumed (consume) or tokens taken, the cost (rate); omit for check. A safe integer. */
  amount?: number | undefined;
  allowed: boolean;
  /** The decision's CamelCase reason, e.g. `Allowed`, `QuotaExceeded`. */
  reason: string;
  /** Usage after the decision (consume). */
  used?: number | undefined;
  /** The limit the decision was made against (consume). */
  limit?: number | undefined;
  /** Hex SHA-256 of the tenant's compiled entitlements; absent only for UnknownTenant. */
  policyDigest?: string | undefined;
  idempotencyKey?: string | undefined;
  /** consume: start of the window counted in (ms since the epoch), null without a window. */
  windowStart?: number | null | undefined;
  /** consume: when the window ends (RFC 3339), null without a window. */
  resetsAt?: string | null | undefined;
  /** rate: whole tokens left. */
  remaining?: number | undefined;
  /** rate: ms until the cost fits; -1 never. */
  retryAfterMs?: number | undefined;
  /** check: the feature's value (a JSON value; fractions as decimal text). */
  value?: unknown;
  /** consume: the alertAt percentage this decision crossed, when it crossed one. */
  threshold?: number | undefined;
  /** consume: the highest threshold still fired after a gauge re-armed lower ones (0 when none), when it did. */
  rearmed?: number | undefined;
}

/**
 * The body of a `decision` receipt: `tenant`, `op`, `subject`, `amount`?, `allowed`, `reason`, `used`?,
 * `limit`?, `policyDigest`? (bstr 32), `idempotencyKey`?, and what rebuilding the answer needs: `windowStart`?,
 * `resetsAt`?, `remaining`?, `retryAfterMs`?, `value`?, `threshold`?, `rearmed`?.
 *
 * @example
 * decisionBody({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: 1, allowed: true,
 *   reason: 'Allowed', used: 42, limit: 1000, policyDigest: 'ab…' })
 */
export function decisionBody(input: DecisionBodyInput): ReceiptBody {
  // Keys in deterministic-CBOR order (shorter first, then bytewise), so the encoder need not sort them.
  const body: ReceiptBody = { op: text(input.op, 'op') };
  optional(body, 'used', input.used, integer);
  optional(body, 'limit', input.limit, integer);
  optional(body, 'value', input.value, jsonToCbor);
  optional(body, 'amount', input.amount, integer);
  body.reason = text(input.reason, 'reason');
  body.tenant = text(input.tenant, 'tenant');
  body.allowed = bool(input.allowed, 'allowed');
  optional(body, 'rearmed', input.rearmed, uint);
  body.subject = text(input.subject, 'subject');
  optional(body, 'resetsAt', input.resetsAt, nullableText);
  optional(body, 'remaining', input.remaining, integer);
  optional(body, 'threshold', input.threshold, uint);
  optional(body, 'windowStart', input.windowStart, nullableInteger);
  optional(body, 'policyDigest', input.policyDigest, digest);
  optional(body, 'retryAfterMs', input.retryAfterMs, integer);
  optional(body, 'idempotencyKey', input.idempotencyKey, text);
  return body;
}

/** A change of one resource's effective entitlements, as the operator reconciled it. */
export interface ReconcileBodyInput {
  /** `Kind/name`, e.g. `Tenant/acme`. */
  resource: string;
  /** metadata.generation reconciled. */
  generation: number;
  /** Hex SHA-256 of the resource's spec. */
  specDigest: string;
  /**
   * The RFC 7396 merge patch from the previous effective entitlements to the new ones (a JSON value, e.g.
   * from `json-merge-patch`'s `generate`); undefined when nothing changed, written as the empty patch `{}`.
   */
  patch: unknown;
}

/**
 * The body of a `reconcile` receipt: `resource`, `generation`, `specDigest` (bstr 32), `patch` (a map).
 * JSON null in the patch (RFC 7396 "remove this member") stays CBOR null. Numbers in the patch that are not
 * safe integers (a fractional feature value such as 0.5) are written as their shortest round-trip decimal
 * text, `String(n)`, because receipts hold no floats; `Number(text)` gives the exact value back.
 */
export function reconcileBody(input: ReconcileBodyInput): ReceiptBody {
  if (!/^[A-Za-z][A-Za-z0-9]*\/[^/]+$/.test(input.resource)) {
    throw new ReceiptEncodeError('resource', `must be Kind/name, got ${JSON.stringify(input.resource)}`);
  }
  const patch = input.patch === undefined ? {} : jsonToCbor(input.patch, 'patch');
  return {
    resource: input.resource,
    generation: uint(input.generation, 'generation'),
    specDigest: digest(input.specDigest, 'specDigest'),
    patch,
  };
}

/** An AdmissionReview answered by the webhook (design §4). */
export interface AdmissionBodyInput {
  /** The review's request UID. */
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  /** `group/version/resource`, the core group empty: `/v1/pods`, `apps/v1/deployments`. */
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
  /** Who asked, as the API server authenticated them. */
  user?: string | undefined;
  /** The tenant whose namespace or resource this is, when it is one. */
  tenant?: string | undefined;
  allowed: boolean;
  reason: string;
  message?: string | undefined;
  /** The cap a denial names: its resource, limit, usage then, and what the request needed (quantities). */
  cap?: { resource: string; limit: string; used: string; requested: string } | undefined;
  dryRun: boolean;
  /** Whether capacity was reserved for the admitted object. */
  reserved: boolean;
}

/**
 * The body of an `admission` receipt: `uid`, `operation`, `resource`, `namespace`?, `name`?, `user`?,
 * `tenant`?, `allowed`, `reason`, `message`?, `cap`? (a map of text `resource`, `limit`, `used`, `requested`),
 * `dryRun`, `reserved`.
 */
export function admissionBody(input: AdmissionBodyInput): ReceiptBody {
  const body: ReceiptBody = {
    uid: text(input.uid, 'uid'),
    operation: text(input.operation, 'operation'),
    resource: text(input.resource, 'resource'),
    allowed: bool(input.allowed, 'allowed'),
    reason: text(input.reason, 'reason'),
    dryRun: bool(input.dryRun, 'dryRun'),
    reserved: bool(input.reserved, 'reserved'),
  };
  optional(body, 'namespace', input.namespace, text);
  optional(body, 'name', input.name, text);
  optional(body, 'user', input.user, text);
  optional(body, 'tenant', input.tenant, text);
  optional(body, 'message', input.message, text);
  optional(body, 'cap', input.cap, (c, path) => jsonToCbor(c, path));
  return body;
}

/** A usage threshold crossed by a consumption (design §3). */
export interface ThresholdBodyInput {
  tenant: string;
  metric: string;
  /** The alertAt percentage crossed. */
  threshold: number;
  /** Whole percent of the limit used after the consumption. */
  percent: number;
  used: number;
  limit: number;
  /** Start of the window in ms since the epoch, or null for gauges and metrics without a window. */
  windowStart: number | null;
  policyDigest?: string | undefined;
}

/** The body of a `threshold` receipt: `tenant`, `metric`, `threshold`, `percent`, `used`, `limit`, `windowStart`, `policyDigest`?. */
export function thresholdBody(input: ThresholdBodyInput): ReceiptBody {
  const body: ReceiptBody = {
    tenant: text(input.tenant, 'tenant'),
    metric: text(input.metric, 'metric'),
    threshold: integer(input.threshold, 'threshold'),
    percent: integer(input.percent, 'percent'),
    used: integer(input.used, 'used'),
    limit: integer(input.limit, 'limit'),
    windowStart: input.windowStart === null ? null : integer(input.windowStart, 'windowStart'),
  };
  optional(body, 'policyDigest', input.policyDigest, digest);
  return body;
}

export interface LifecycleBodyInput {
  event: 'start' | 'stop';
  /** The governor's version, e.g. `0.1.0`. */
  version: string;
  /** start, in a log's first entry only: the log this one succeeds and its last checkpoint (root as hex). */
  predecessor?: PredecessorInput | undefined;
}

/** The log a new log succeeds (a Cloud Run instance after the one before, a replica whose disk was replaced). */
export interface PredecessorInput {
  origin: string;
  /** Entries in its last checkpoint. */
  size: number;
  /** Its Merkle root at `size`, hex. */
  root: string;
}

/** The body of a `lifecycle` receipt: `event` (`start` | `stop`), `version`, `predecessor`? {`origin`, `size`, `root` bstr 32}. */
export function lifecycleBody(input: LifecycleBodyInput): ReceiptBody {
  if (input.event !== 'start' && input.event !== 'stop') {
    throw new ReceiptEncodeError('event', `must be "start" or "stop", got ${JSON.stringify(input.event)}`);
  }
  const body: ReceiptBody = { event: input.event, version: text(input.version, 'version') };
  const p = input.predecessor;
  if (p !== undefined) body.predecessor = { origin: text(p.origin, 'predecessor.origin'), size: uint(p.size, 'predecessor.size'), root: digest(p.root, 'predecessor.root') };
  return body;
}

/**
 * A JSON value as a receipt value: objects become maps, null stays null, safe integers stay integers and
 * every other finite number becomes its decimal text `String(n)` (receipts hold no floats). Properties whose
 * value is undefined are dropped, as JSON.stringify drops them.
 *
 * @throws ReceiptEncodeError naming the path of a non-finite number or a non-JSON value.
 */
export function jsonToCbor(value: unknown, path: string): CborValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return jsonNumber(value, path);
  if (Array.isArray(value)) return value.map((item: unknown, i) => jsonToCbor(item, `${path}[${i}]`));
  if (typeof value === 'object' && isPlainObject(value)) return jsonObject(value, path);
  throw new ReceiptEncodeError(path, `${describe(value)} is not a JSON value`);
}

function jsonNumber(n: number, path: string): CborValue {
  if (Number.isSafeInteger(n)) return n === 0 ? 0 : n; // -0 → 0
  if (!Number.isFinite(n)) throw new ReceiptEncodeError(path, `${n} is not a JSON number`);
  return String(n);
}

function jsonObject(value: object, path: string): CborMap {
  const map: CborMap = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    // defineProperty: a "__proto__" member stays an ordinary key.
    Object.defineProperty(map, key, { value: jsonToCbor(item, `${path}.${key}`), enumerable: true, writable: true, configurable: true });
  }
  return map;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A hex SHA-256 digest (64 hex digits) as 32 bytes.
 *
 * @throws ReceiptEncodeError naming `path` when `hex` is not 64 hex digits.
 */
export function digestBytes(hex: string, path: string): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ReceiptEncodeError(path, `must be a hex SHA-256 digest (64 hex digits), got ${describe(hex)}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * The digests in bodies repeat (every decision names its tenant's policy digest): each hex text is checked and
 * converted once, the bytes shared by the bodies that carry it. Bodies are written, never changed in place.
 */
const digestCache = new Map<string, Uint8Array>();
const DIGEST_CACHE_LIMIT = 4096;

function digest(hex: string, path: string): Uint8Array {
  let bytes = digestCache.get(hex);
  if (bytes === undefined) {
    bytes = digestBytes(hex, path);
    if (digestCache.size >= DIGEST_CACHE_LIMIT) digestCache.clear();
    digestCache.set(hex, bytes);
  }
  return bytes;
}

function text(value: string, path: string): string {
  if (typeof value !== 'string') throw new ReceiptEncodeError(path, `must be text, got ${describe(value)}`);
  return value;
}

function bool(value: boolean, path: string): boolean {
  if (typeof value !== 'boolean') throw new ReceiptEncodeError(path, `must be a boolean, got ${describe(value)}`);
  return value;
}

function integer(value: number, path: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new ReceiptEncodeError(path, `must be a whole number within ±(2^53-1), got ${describe(value)} (receipts hold no floats)`);
  }
  return value === 0 ? 0 : value;
}

function uint(value: number, path: string): number {
  if (integer(value, path) < 0) throw new ReceiptEncodeError(path, `must not be negative, got ${value}`);
  return value;
}

function nullable<T>(check: (v: T, path: string) => CborValue): (v: T | null, path: string) => CborValue {
  return (v, path) => (v === null ? null : check(v, path));
}

// Built once: a closure per decision body was a measurable part of building one.
const nullableText = nullable(text);
const nullableInteger = nullable(integer);

function optional<T>(body: ReceiptBody, key: string, value: T | undefined, check: (v: T, path: string) => CborValue): void {
  if (value !== undefined) body[key] = check(value, key);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value !== 'object' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${value.constructor?.name ?? 'object'}`;
}
