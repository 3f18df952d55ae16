import type { DecodeOptions } from 'cbor2';
import { sortCoreDeterministic } from 'cbor2/sorts';

/**
 * cbor2 as the independent strict decoder: `cde: true` (RFC 8949 §4.2.1 / draft-ietf-cbor-cde: rejectStreaming,
 * requirePreferred, sortKeys = sortCoreDeterministic, which also rejects duplicates) plus every reject* option
 * that applies to our subset. cbor2 has no "reject tags" option: with ignoreGlobalTags every tag decodes to a
 * Tag object, which the tests reject wherever they find one.
 */
export const CBOR2_STRICT: DecodeOptions = {
  cde: true,
  rejectStreaming: true,
  requirePreferred: true,
  sortKeys: sortCoreDeterministic,
  rejectDuplicateKeys: true,
  rejectFloats: true,
  rejectLongFloats: true,
  rejectNegativeZero: true,
  rejectSimple: true,
  rejectUndefined: true,
  rejectBigInts: true,
  rejectLargeNegatives: true,
  ignoreGlobalTags: true,
};
