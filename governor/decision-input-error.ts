/**
 * A decision request that is malformed rather than merely denied: a fractional or unsafe amount, a negative
 * amount for a counter, a bad cost or idempotency key. The HTTP layer answers it with 400 problem+json whose
 * `detail` is the message. `field` is the path of the offending field, e.g. `amount` or `decisions[2].amount`.
 */
export class DecisionInputError extends Error {
  readonly field: string;
  /** The message without the field path. */
  readonly detail: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'DecisionInputError';
    this.field = field;
    this.detail = detail;
  }

  /** The same error for a field nested under `prefix` (e.g. the index of a batch item). */
  within(prefix: string): DecisionInputError {
    return new DecisionInputError(`${prefix}.${this.field}`, this.detail);
  }
}

/** Longest idempotency key accepted, so remembered keys stay small. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

export function assertSafeInteger(field: string, value: unknown): asserts value is number {
  if (!Number.isSafeInteger(value)) {
    throw new DecisionInputError(field, `must be a whole number between -(2^53-1) and 2^53-1, got ${describe(value)}`);
  }
}

export function assertIdempotencyKey(value: unknown): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new DecisionInputError(
      'idempotencyKey',
      `must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${describe(value)}`,
    );
  }
}

/**
 * What a client does about a lone surrogate: its JSON escaped half of a pair (`"\\ud800"`) or its UTF-16 was cut
 * in the middle of a character. The same words for every field, so the HTTP schemas reuse them.
 */
export const LONE_SURROGATE_DETAIL =
  'text has a lone UTF-16 surrogate, which is not Unicode and cannot be recorded in a receipt: send well-formed text (a character outside the BMP as a whole pair, e.g. "\\ud83d\\ude00")';

/**
 * Throws DecisionInputError unless `value` (when it is a string) is well-formed Unicode: every text of a
 * request is written to its receipt as UTF-8, which has no encoding for a lone surrogate (`"k\\ud800"`).
 * Checked before anything is decided, so such a request changes nothing.
 */
export function assertWellFormedText(field: string, value: unknown): void {
  if (typeof value === 'string' && !value.isWellFormed()) throw new DecisionInputError(field, LONE_SURROGATE_DETAIL);
}

/** The request fields a receipt records as text. */
const RECORDED_TEXT = ['tenant', 'feature', 'metric', 'name', 'idempotencyKey'] as const;

/** Throws DecisionInputError naming the first text field of a decision request that is not well-formed Unicode. */
export function assertRecordableText(request: object): void {
  for (const field of RECORDED_TEXT) assertWellFormedText(field, (request as Partial<Record<string, unknown>>)[field]);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
