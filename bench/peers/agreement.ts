/**
 * Before the peers bench loads anything, each peer must give the answers TAI gives: a throughput over different
 * decisions would compare different work. Throws, naming the first disagreements.
 */
import type { CompiledTenant } from '../../governor/index.ts';
import { gubernatorRequest } from './from-policy.ts';

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The fields of a check answer both must agree on. */
function checkFields(a: Record<string, unknown>): string {
  return JSON.stringify({ allowed: a.allowed, reason: a.reason, value: a.value, policy: a.policy });
}

function throwIfAny(what: string, differences: readonly string[]): void {
  if (differences.length > 0) throw new Error(`${what}: ${differences.length} answers differ, e.g. ${differences.slice(0, 3).join('; ')}`);
}

/**
 * Every tenant (and an unknown one) × every feature any tenant has (and an unknown one): TAI's POST /v1/check
 * and OPA's POST /v1/data/tai/check agree on allowed, reason, value and policy digest. Returns how many pairs.
 */
export async function checkAgreement(taiCheck: string, opaCheck: string, tenants: ReadonlyMap<string, CompiledTenant>): Promise<number> {
  const features = new Set<string>(['no-such-feature']);
  for (const t of tenants.values()) for (const f of Object.keys(t.features)) features.add(f);
  const differences: string[] = [];
  let n = 0;
  for (const tenant of [...tenants.keys(), 'no-such-tenant']) {
    for (const feature of features) {
      const tai = checkFields((await post(taiCheck, { tenant, feature })) as Record<string, unknown>);
      const opa = checkFields(((await post(opaCheck, { input: { tenant, feature } })) as { result?: Record<string, unknown> }).result ?? {});
      if (tai !== opa) differences.push(`${tenant}/${feature}: TAI ${tai}, OPA ${opa}`);
      n++;
    }
  }
  throwIfAny('OPA and TAI feature checks', differences);
  return n;
}

/**
 * On a fresh bucket of `tenant`'s rate `name` (one the load does not use): a take of the whole burst passes in
 * both, a second one is refused in both, and a take of more than the burst is refused in both. Sequences of
 * single tokens would depend on the refill between calls; these do not (unless a second passes between them).
 */
export async function rateAgreement(taiRate: string, gubernatorRate: string, tenants: ReadonlyMap<string, CompiledTenant>, at: { tenant: string; name: string }): Promise<void> {
  const burst = tenants.get(at.tenant)?.rates[at.name]?.burst;
  if (burst === undefined) throw new Error(`no rate "${at.name}" for tenant "${at.tenant}"`);
  const differences: string[] = [];
  for (const cost of [burst, burst, burst + 1]) {
    const tai = ((await post(taiRate, { ...at, cost })) as { allowed: boolean }).allowed;
    const answer = (await post(gubernatorRate, gubernatorRequest(tenants, { ...at, cost }))) as { responses: { status?: string; error?: string }[] };
    const r = answer.responses[0];
    if (r?.error) throw new Error(`Gubernator: ${r.error}`);
    const gubernator = (r?.status ?? 'UNDER_LIMIT') === 'UNDER_LIMIT'; // proto3 JSON leaves out the first enum value
    if (tai !== gubernator) differences.push(`cost ${cost}: TAI allowed=${tai}, Gubernator allowed=${gubernator}`);
  }
  throwIfAny('Gubernator and TAI rate decisions', differences);
}
