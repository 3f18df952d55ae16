/**
 * What the peers of the peers bench are told, generated from the policy TAI compiles, so each answers the same
 * question as TAI over the same tenants:
 * - OPA: the data document its Rego feature check (check.rego) reads. Each tenant carries what
 *   governor/decide-check.ts reads: suspended, the feature values of its effective document, and the digest of
 *   its compiled entitlements (the `policy` field of TAI's answer).
 * - Gubernator: it holds no policy (its caller sends the limit with every hit), so the request body carries the
 *   tenant's compiled rate.
 */
import { formatPolicyError, loadManifestSet } from '../../crds/index.ts';
import { effectiveDocument, PolicyCompiler, type CompiledTenant } from '../../governor/index.ts';
import { readManifestFiles } from '../../server/index.ts';

export interface OpaTenant {
  suspended: boolean;
  digest: string;
  features: Record<string, unknown>;
}

/** OPA's `data`: tenants by name. */
export interface OpaData {
  tenants: Record<string, OpaTenant>;
}

/** The data document for `tenants` (compiled tenants by name). */
export function opaData(tenants: Iterable<readonly [string, CompiledTenant]>): OpaData {
  const out: Record<string, OpaTenant> = {};
  for (const [name, t] of tenants) {
    const doc = effectiveDocument(t);
    out[name] = { suspended: doc.suspended, digest: t.digest, features: doc.features };
  }
  return { tenants: out };
}

/**
 * Compiles the policy files under `dir` as `tai serve --from dir` does, at `now`; throws on any error, since a
 * bench over half a policy would compare different questions.
 */
export async function compilePolicyFolder(dir: string, now: number): Promise<ReadonlyMap<string, CompiledTenant>> {
  const load = loadManifestSet(await readManifestFiles([dir]));
  if (load.errors.length > 0) throw new Error(`policy in ${dir}: ${load.errors.map(formatPolicyError).join('; ')}`);
  const snapshot = new PolicyCompiler().apply({ upsert: [...load.resources.values()].map((r) => r.resource) }, now);
  const failed = [...snapshot.statuses].filter(([, s]) => !s.ready).map(([key]) => key);
  if (failed.length > 0) throw new Error(`policy in ${dir}: not compiled: ${failed.join(', ')}`);
  return snapshot.tenants;
}

/** One rate limit of Gubernator's POST /v1/GetRateLimits (its grpc-gateway JSON, proto field names). */
export interface GubernatorRateLimit {
  name: string;
  unique_key: string;
  hits: number;
  limit: number;
  duration: number;
  burst: number;
  algorithm: 'LEAKY_BUCKET';
}

/**
 * Gubernator's request for TAI's POST /v1/rate {tenant, name, cost}: the tenant's bucket `name`, `cost` hits.
 * Gubernator's LEAKY_BUCKET is TAI's token bucket (governor/rate-bucket.ts): it starts full at `burst`, refills
 * continuously at `limit` per `duration` ms, and refuses a hit that finds too few tokens, taking nothing. (Its
 * TOKEN_BUCKET is a different rule: the whole limit comes back at once when a fixed window resets.) Throws for
 * a tenant or rate the policy does not have: there would be no limit to send.
 */
export function gubernatorRequest(tenants: ReadonlyMap<string, CompiledTenant>, r: { tenant: string; name: string; cost?: number }): { requests: GubernatorRateLimit[] } {
  const t = tenants.get(r.tenant);
  const rate = t !== undefined && Object.hasOwn(t.rates, r.name) ? t.rates[r.name] : undefined;
  if (rate === undefined) throw new Error(`no rate "${r.name}" for tenant "${r.tenant}" in the policy`);
  return { requests: [{ name: r.name, unique_key: r.tenant, hits: r.cost ?? 1, limit: rate.perSecond, duration: 1000, burst: rate.burst, algorithm: 'LEAKY_BUCKET' }] };
}
