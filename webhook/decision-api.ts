import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { DecisionInputError, explainTenant, type CompiledTenant, type Governor } from '../governor/index.ts';
import { batchBody, checkBody, consumeBody, describeIssues, rateBody } from './decision-schemas.ts';
import { problem } from './problem.ts';

export interface DecisionApiOptions {
  governor: Governor;
  /** The tenant's compiled entitlements now, for the entitlements endpoint. */
  tenant: (name: string) => CompiledTenant | undefined;
}

/**
 * The decision API of design §4. A denial is a decision (200, allowed:false); a malformed request is a 400
 * problem+json naming the field.
 */
export function decisionApi(opts: DecisionApiOptions): Hono {
  const app = new Hono();
  const { governor } = opts;
  app.post('/check', (c) => decide(c, checkBody, (b) => governor.check(b)));
  app.post('/consume', (c) => decide(c, consumeBody, (b) => governor.consume(b)));
  app.post('/rate', (c) => decide(c, rateBody, (b) => governor.rate(b)));
  app.post('/batch', (c) => decide(c, batchBody, (b) => ({ results: governor.batch(b.decisions) })));
  app.get('/tenants/:name/entitlements', (c) => {
    const name = c.req.param('name');
    const tenant = opts.tenant(name);
    if (!tenant) return problem(c, 'unknown-tenant', `tenant "${name}" is not defined`);
    const explained = explainTenant(tenant);
    return c.json(c.req.query('explain') === '1' ? explained : withoutExplanations(explained));
  });
  return app;
}

async function decide<S extends z.ZodType>(c: Context, schema: S, run: (body: z.infer<S>) => unknown): Promise<Response> {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const parsed = schema.safeParse(body);
  if (!parsed.success) return problem(c, 'invalid-request', describeIssues(parsed.error));
  try {
    return c.json(run(parsed.data) as object);
  } catch (e) {
    if (e instanceof DecisionInputError) return problem(c, 'invalid-request', e.message);
    throw e;
  }
}

/** Parses a JSON body or answers the precise problem (415 not JSON, 400 malformed). */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) return problem(c, 'unsupported-media-type', `content-type must be application/json, got ${JSON.stringify(type || '(none)')}`);
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return problem(c, 'invalid-request', `body is not valid JSON: ${(e as Error).message}`);
  }
}

type Explanation = ReturnType<typeof explainTenant>;

/** The plain view: values and policies, no provenance. */
function withoutExplanations(e: Explanation): object {
  const values = <T extends { value: unknown }>(o: Record<string, T>, extra?: (v: T) => object): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, extra ? extra(v) : v.value]));
  return {
    tenant: e.tenant,
    sku: e.sku,
    suspended: e.suspended,
    digest: e.digest,
    features: values(e.features),
    quotas: values(e.quotas, (q) => ({ limit: q.value, ...q.policy })),
    rates: values(e.rates, (r) => ({ perSecond: r.value, burst: r.burst })),
    resources: values(e.resources),
  };
}
