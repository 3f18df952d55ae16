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

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
