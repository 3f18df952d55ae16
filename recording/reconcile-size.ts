import { effectiveDocument, type CompileIssue, type CompiledTenant, type EffectiveDocument } from '../governor/index.ts';
import { encodeDeterministic, encodeReceipt, jsonToCbor, MAX_ENTRY_SIZE, RECEIPT_VERSION, reconcileBody, zeroPrev } from '../receipts/index.ts';

/**
 * How many bytes the reconcile receipt of a tenant's whole entitlements may take: half of a log entry
 * (`MAX_ENTRY_SIZE`, 65 535 bytes). A reconcile receipt holds the RFC 7396 merge patch from the recorded
 * entitlements to the new ones, which is at most both documents together (the new values and a null for each
 * removed key), so with every tenant's entitlements within half, every change of them fits in one entry.
 */
export const ENTITLEMENTS_RECEIPT_BUDGET = Math.floor(MAX_ENTRY_SIZE / 2);

/**
 * The size of the reconcile receipt that records the tenant's entitlements whole (its first receipt, or the one
 * after it was removed), with the largest header any log will give it (index, time and generation at 2^53 − 1).
 */
export function entitlementsReceiptBytes(name: string, compiled: CompiledTenant): number {
  // The receipt with the four maps empty, plus each map's own encoding in place of its empty one (1 byte): the
  // same length as encoding it whole. Each map's length is kept by the compiled object, which tenants that take
  // their SKU's entitlements unchanged share, so a policy of many such tenants encodes each map once.
  const doc = effectiveDocument({ ...compiled, features: {}, quotas: {}, rates: {}, resources: {} });
  const body = reconcileBody({ resource: `Tenant/${name}`, generation: Number.MAX_SAFE_INTEGER, specDigest: '0'.repeat(64), patch: doc });
  const frame = encodeReceipt({ v: RECEIPT_VERSION, kind: 'reconcile', index: Number.MAX_SAFE_INTEGER, time: Number.MAX_SAFE_INTEGER, prev: zeroPrev(), body }).length;
  const parts = (['features', 'quotas', 'rates', 'resources'] as const).map((part) => partBytes(compiled, part) - 1);
  return parts.reduce((a, b) => a + b, frame);
}

type Part = 'features' | 'quotas' | 'rates' | 'resources';
const partSizes = new WeakMap<object, number>();

/** The CBOR length of one map of the effective document, computed once per compiled map object. */
function partBytes(compiled: CompiledTenant, part: Part): number {
  const key = compiled[part];
  let bytes = partSizes.get(key);
  if (bytes === undefined) {
    const value: EffectiveDocument[Part] = effectiveDocument({ ...compiled, features: {}, quotas: {}, rates: {}, resources: {}, [part]: key })[part];
    bytes = encodeDeterministic(jsonToCbor(value, part), part).length;
    partSizes.set(key, bytes);
  }
  return bytes;
}

/**
 * A compiled tenant whose entitlements could not be recorded in the receipt log is refused (`ReceiptTooLarge`):
 * the message names the tenant, the receipt size and the limit. For `PolicyCompiler`'s `checkTenant`.
 */
export function checkEntitlementsReceipt(name: string, compiled: CompiledTenant): CompileIssue | undefined {
  const bytes = entitlementsReceiptBytes(name, compiled);
  if (bytes <= ENTITLEMENTS_RECEIPT_BUDGET) return undefined;
  return {
    reason: 'ReceiptTooLarge',
    path: 'spec',
    message:
      `tenant ${name}: its entitlements make a reconcile receipt of ${bytes} bytes; at most ${ENTITLEMENTS_RECEIPT_BUDGET} are allowed ` +
      `(half of a log entry's ${MAX_ENTRY_SIZE} bytes, so that any change of them can be recorded): shorten or remove features of its SKU, add-ons or overrides (a running governor keeps serving its last good entitlements)`,
  };
}
