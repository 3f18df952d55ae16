import type { MiddlewareHandler } from 'hono';
import { Refusal, refuse } from './problem.ts';

/** Who a bearer token belongs to, as the verifier (a token file, or Kubernetes TokenReview) says. */
export interface Principal {
  name: string;
  uid?: string;
  groups: string[];
}

/**
 * Checks a bearer token. Resolves with the principal, or undefined when the token is not valid; rejects
 * (preferably with an {@link AuthUnavailableError}) when it cannot decide, e.g. the API server is unreachable.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Principal | undefined>;
}

/** A verifier could not decide whether a token is valid: the caller should retry, the token may be fine. */
export class AuthUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthUnavailableError';
  }
}

/** The Hono environment of routes behind {@link bearerAuth}: `c.get('principal')` is the caller. */
export interface AuthEnv {
  Variables: { principal: Principal };
}

export interface BearerAuthOptions {
  verifier: TokenVerifier;
  /** The realm named in `WWW-Authenticate` (default "tai"). */
  realm?: string;
  /** Hears why a token could not be checked (the client sees only a 503). */
  onUnavailable?: (error: unknown) => void;
}

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Requires `Authorization: Bearer TOKEN` (RFC 6750) checked by `verifier`, and sets `principal` for the
 * handlers after it. The failures are deliberate: no or a malformed header → 401 with a bare
 * `WWW-Authenticate: Bearer realm="tai"`; a token the verifier rejects → 401 with `error="invalid_token"`;
 * a verifier that cannot decide → 503 `auth-unavailable`, so a client retries instead of dropping a good token.
 *
 * @example
 * const app = new Hono<AuthEnv>();
 * app.use('/v1/*', bearerAuth({ verifier: new TokenReviewVerifier({ api, now: () => clock.now() }) }));
 * app.get('/v1/whoami', (c) => c.json(c.get('principal')));
 */
export function bearerAuth(opts: BearerAuthOptions): BearerAuth {
  const check = bearerCheck(opts);
  const middleware: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const outcome = await check(c.req.header('authorization'));
    if (outcome instanceof Refusal) return refuse(c, outcome);
    c.set('principal', outcome);
    await next();
  };
  return Object.assign(middleware, { check });
}

/** The bearerAuth middleware, with its check for callers outside Hono (the lean decision routes, http/lean/). */
export type BearerAuth = MiddlewareHandler<AuthEnv> & {
  /** The caller behind an Authorization header, or the refusal to answer (401, or 503 auth-unavailable). */
  readonly check: (authorization: string | undefined) => Promise<Principal | Refusal>;
};

function bearerCheck(opts: BearerAuthOptions): BearerAuth['check'] {
  const realm = opts.realm ?? 'tai';
  if (!/^[\x20-\x7e]*$/.test(realm) || /["\\]/.test(realm)) throw new Error(`bearerAuth: realm ${JSON.stringify(realm)} must be printable ASCII without quotes or backslashes`);
  const challenge = `Bearer realm="${realm}"`;
  return async (header) => {
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (token === undefined) return unauthorized(challenge, header === undefined ? 'this endpoint needs an Authorization: Bearer <token> header' : 'the Authorization header must be "Bearer <token>"');
    let principal: Principal | undefined;
    try {
      principal = await opts.verifier.verify(token);
    } catch (e) {
      opts.onUnavailable?.(e);
      return new Refusal('auth-unavailable', `the bearer token could not be checked (${e instanceof AuthUnavailableError ? e.message : 'verifier failed'}); retry shortly`);
    }
    return principal ?? unauthorized(`${challenge}, error="invalid_token"`, 'the bearer token is not valid (unknown, expired or revoked)');
  };
}

function unauthorized(challenge: string, detail: string): Refusal {
  return new Refusal('unauthorized', detail, { 'WWW-Authenticate': challenge });
}
