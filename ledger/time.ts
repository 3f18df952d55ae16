// Receipt time (microseconds since the Unix epoch, UTC) as RFC 3339 text. Pure.

/** RFC 3339 UTC date-time with microseconds, e.g. 2025-06-01T12:00:00.000250Z. */
export function rfc3339FromMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros - ms * 1000).padStart(3, '0')}Z`;
}
