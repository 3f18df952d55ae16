import { Hono, type Context } from 'hono';
import { effectiveDocument, explainTenant, type CompiledTenant } from '../governor/index.ts';
import { DECISION_ROUTES, decideBody, mediaTypeRefusal, parseJsonBody, type DecisionRoute, type DecisionService } from './decision-routes.ts';
import { problem, Refusal, refuse } from './problem.ts';

export { wireAnswer, type Answering, type DecisionAnswer, type DecisionService, type WireAnswer } from './decision-routes.ts';

export interface DecisionApiOptions {
  decisions: DecisionService;
  /** The tenant's compiled entitlements now, for the entitlements endpoint. */
  tenant: (name: string) => CompiledTenant | undefined;
}

/**
 * The decision API of design §4. A denial is a decision (200, allowed:false); a malformed request is a 400
 * problem+json naming the field.
 */
export function decisionApi(opts: DecisionApiOptions): Hono {
  const app = new Hono();
  const { decisions } = opts;
  for (const [name, r] of Object.entries(DECISION_ROUTES)) app.post(`/${name}`, (c) => decide(c, r, decisions));
  app.get('/tenants/:name/entitlements', (c) => {
    const name = c.req.param('name');
    const tenant = opts.tenant(name);
    const explain = c.req.queries('explain');
    if (explain !== undefined && (explain.length !== 1 || explain[0] !== '1')) {
      return problem(c, 'invalid-request', `explain: expected explain=1 (once) or no explain parameter, got ${JSON.stringify(explain)}`);
    }
    if (!tenant) return problem(c, 'unknown-tenant', `tenant "${name}" is not defined`);
    return c.json(explain ? explainTenant(tenant) : { tenant: name, digest: tenant.digest, ...effectiveDocument(tenant) });
  });
  return app;
}

async function decide(c: Context, r: DecisionRoute, decisions: DecisionService): Promise<Response> {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const answer = await decideBody(r, decisions, body);
  return answer instanceof Refusal ? refuse(c, answer) : c.json(answer);
}

/** Parses a JSON body or answers the precise problem (415 not JSON, 400 malformed). */
export async function readJson(c: Context): Promise<unknown> {
  const wrongType = mediaTypeRefusal(c.req.header('content-type'));
  if (wrongType) return refuse(c, wrongType);
  const body = parseJsonBody(await c.req.text());
  return body instanceof Refusal ? refuse(c, body) : body;
}
