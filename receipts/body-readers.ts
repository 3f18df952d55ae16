/**
 * Readers for receipt bodies, beside their builders (bodies.ts): each checks every field it returns against the
 * tables of docs/receipts.md and answers a typed body or a ReceiptBodyError naming the field, what it must be and
 * what it was. Unknown extra keys are ignored (readers must tolerate them).
 *
 * @example
 * const d = readDecisionBody(entry.receipt.body);
 * if (d instanceof ReceiptBodyError) throw new Error(`entry ${entry.index}: ${d.message}`);
 * if (d.op === 'consume') restoreCounter(d.tenant, d.subject, d.windowStart, d.used);
 */
import type { ThresholdBodyInput } from './bodies.ts';
import type { CborMap, CborValue, ReceiptBody } from './receipt.ts';

/** A body field that is missing or of the wrong type: `field` is its key, `want` the type the format gives it. */
export class ReceiptBodyError extends Error {
  readonly field: string;
  readonly want: string;
  readonly got: unknown;

  constructor(kind: string, field: string, want: string, got: unknown) {
    super(`${kind} body: ${field} must be ${want}, got ${describe(got)}`);
    this.name = 'ReceiptBodyError';
    this.field = field;
    this.want = want;
    this.got = got;
  }
}

interface DecisionBodyBase {
  tenant: string;
  subject: string;
  allowed: boolean;
  reason: string;
  /** SHA-256 of the tenant's compiled entitlements (32 bytes); absent only for UnknownTenant. */
  policyDigest?: Uint8Array;
}

export interface CheckDecisionBody extends DecisionBodyBase {
  op: 'check';
  /** The feature's value as JSON-like CBOR, when the tenant has the feature. */
  value?: CborValue;
}

export interface ConsumeDecisionBody extends DecisionBodyBase {
  op: 'consume';
  amount: number;
  used: number;
  limit: number;
  /** Start of the window counted in (ms since the epoch), null without a window (also when not recorded). */
  windowStart: number | null;
  /** End of the window (RFC 3339), null without a window (also when not recorded). */
  resetsAt: string | null;
  idempotencyKey?: string;
  threshold?: number;
  rearmed?: number;
}

export interface RateDecisionBody extends DecisionBodyBase {
  op: 'rate';
  amount: number;
  remaining: number;
  retryAfterMs: number;
}

/** A `decision` body as decisionBody writes it, by op. */
export type DecisionBody = CheckDecisionBody | ConsumeDecisionBody | RateDecisionBody;

/** A `threshold` body as thresholdBody writes it: its input, with the policy digest as the bytes recorded. */
export type ThresholdBody = Omit<ThresholdBodyInput, 'policyDigest'> & { policyDigest?: Uint8Array };

/** A `reconcile` body as reconcileBody writes it. */
export interface ReconcileBody {
  /** `Kind/name`, e.g. `Tenant/acme`. */
  resource: string;
  generation: number;
  specDigest: Uint8Array;
  /** The RFC 7396 merge patch; null when the resource was deleted. */
  patch: CborMap | null;
}

/** Reads a `decision` body (docs/receipts.md § decision). */
export function readDecisionBody(body: ReceiptBody): DecisionBody | ReceiptBodyError {
  try {
    const f = new Fields('decision', body);
    const op = f.oneOf('op', ['check', 'consume', 'rate'] as const);
    const base: DecisionBodyBase = { tenant: f.text('tenant'), subject: f.text('subject'), allowed: f.bool('allowed'), reason: f.text('reason') };
    const policyDigest = f.optional('policyDigest', () => f.digest('policyDigest'));
    if (policyDigest !== undefined) base.policyDigest = policyDigest;
    if (op === 'check') return withOptional<CheckDecisionBody>({ ...base, op }, { value: f.optional('value', () => body.value) });
    if (op === 'rate') return { ...base, op, amount: f.int('amount'), remaining: f.int('remaining'), retryAfterMs: f.int('retryAfterMs') };
    const consume: ConsumeDecisionBody = {
      ...base,
      op,
      amount: f.int('amount'),
      used: f.int('used'),
      limit: f.int('limit'),
      windowStart: f.optional('windowStart', () => f.nullable('windowStart', () => f.int('windowStart'))) ?? null,
      resetsAt: f.optional('resetsAt', () => f.nullable('resetsAt', () => f.text('resetsAt'))) ?? null,
    };
    return withOptional(consume, {
      idempotencyKey: f.optional('idempotencyKey', () => f.text('idempotencyKey')),
      threshold: f.optional('threshold', () => f.uint('threshold')),
      rearmed: f.optional('rearmed', () => f.uint('rearmed')),
    });
  } catch (e) {
    if (e instanceof ReceiptBodyError) return e;
    throw e;
  }
}

/** Reads a `threshold` body (docs/receipts.md § threshold). */
export function readThresholdBody(body: ReceiptBody): ThresholdBody | ReceiptBodyError {
  try {
    const f = new Fields('threshold', body);
    const read: ThresholdBody = {
      tenant: f.text('tenant'),
      metric: f.text('metric'),
      threshold: f.int('threshold'),
      percent: f.int('percent'),
      used: f.int('used'),
      limit: f.int('limit'),
      windowStart: f.nullable('windowStart', () => f.int('windowStart')),
    };
    return withOptional(read, { policyDigest: f.optional('policyDigest', () => f.digest('policyDigest')) });
  } catch (e) {
    if (e instanceof ReceiptBodyError) return e;
    throw e;
  }
}

/** Reads a `reconcile` body (docs/receipts.md § reconcile). */
export function readReconcileBody(body: ReceiptBody): ReconcileBody | ReceiptBodyError {
  try {
    const f = new Fields('reconcile', body);
    return { resource: f.text('resource'), generation: f.uint('generation'), specDigest: f.digest('specDigest'), patch: f.nullable('patch', () => f.map('patch')) };
  } catch (e) {
    if (e instanceof ReceiptBodyError) return e;
    throw e;
  }
}

export interface LifecycleBody {
  event: 'start' | 'stop';
  version: string;
  /** In a log's first entry: the log it succeeds and that log's last checkpoint. */
  predecessor?: { origin: string; size: number; root: Uint8Array };
}

/** Reads a `lifecycle` body (docs/receipts.md § lifecycle). */
export function readLifecycleBody(body: ReceiptBody): LifecycleBody | ReceiptBodyError {
  try {
    const f = new Fields('lifecycle', body);
    const read: LifecycleBody = { event: f.oneOf('event', ['start', 'stop'] as const), version: f.text('version') };
    const p = f.optional('predecessor', () => f.map('predecessor'));
    if (p === undefined) return read;
    const g = new Fields('lifecycle predecessor', p);
    return { ...read, predecessor: { origin: g.text('origin'), size: g.uint('size'), root: g.digest('root') } };
  } catch (e) {
    if (e instanceof ReceiptBodyError) return e;
    throw e;
  }
}

/** `target` with each defined entry of `extra` set (an optional field absent stays absent, never undefined). */
function withOptional<T extends object>(target: T, extra: { [K in keyof T]?: T[K] | undefined }): T {
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) Object.assign(target, { [k]: v });
  return target;
}

/** Typed field access that throws ReceiptBodyError (caught by the readers above). */
class Fields {
  readonly #kind: string;
  readonly #body: ReceiptBody;

  constructor(kind: string, body: ReceiptBody) {
    this.#kind = kind;
    this.#body = body;
  }

  text(key: string): string {
    const v = this.#body[key];
    if (typeof v !== 'string') throw this.#error(key, 'text');
    return v;
  }

  bool(key: string): boolean {
    const v = this.#body[key];
    if (typeof v !== 'boolean') throw this.#error(key, 'a boolean');
    return v;
  }

  int(key: string): number {
    const v = this.#body[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw this.#error(key, 'an integer');
    return v;
  }

  uint(key: string): number {
    const v = this.#body[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw this.#error(key, 'a non-negative integer');
    return v;
  }

  digest(key: string): Uint8Array {
    const v = this.#body[key];
    if (!(v instanceof Uint8Array) || v.length !== 32) throw this.#error(key, 'a 32-byte digest');
    return v;
  }

  map(key: string): CborMap {
    const v = this.#body[key];
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array || Array.isArray(v)) throw this.#error(key, 'a map');
    return v;
  }

  oneOf<const T extends string>(key: string, values: readonly T[]): T {
    const v = this.#body[key];
    const found = values.find((w) => w === v);
    if (found === undefined) throw this.#error(key, values.map((w) => JSON.stringify(w)).join(' or '));
    return found;
  }

  nullable<T>(key: string, read: () => T): T | null {
    return this.#body[key] === null ? null : read();
  }

  optional<T>(key: string, read: () => T): T | undefined {
    return Object.hasOwn(this.#body, key) ? read() : undefined;
  }

  #error(key: string, want: string): ReceiptBodyError {
    return new ReceiptBodyError(this.#kind, key, want, Object.hasOwn(this.#body, key) ? this.#body[key] : undefined);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value !== 'object' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : 'a map';
}
