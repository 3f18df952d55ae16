import { createHash } from 'node:crypto';
import type { KubeApi } from '../kube/index.ts';
import { AuthUnavailableError, type Principal, type TokenVerifier } from './auth.ts';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';

export interface TokenReviewOptions {
  /** The client the reviews are POSTed with; its identity needs `create` on tokenreviews (config/rbac). */
  api: KubeApi;
  now: () => number;
  /** Audiences the token must be meant for (`spec.audiences`); the API server's default audience when absent. */
  audiences?: string[];
  /** How long a valid token is trusted without asking again, in ms (default 60 000; never past its JWT `exp`). */
  ttlMs?: number;
  /** How long a rejected token stays rejected without asking again, in ms (default 10 000). */
  negativeTtlMs?: number;
  /** Most answers kept; the least recently used go first (default 10 000). */
  maxEntries?: number;
  /** How long one review may take before the request answers 503, in ms (default 5 000). */
  timeoutMs?: number;
}

/** `status` of an authentication.k8s.io/v1 TokenReview, as far as it is read here. */
interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[] };
  audiences?: string[];
  error?: string;
}

interface Answer {
  principal: Principal | undefined;
  until: number;
}

/**
 * Bearer tokens checked by the Kubernetes API server (a `TokenReview`), so service-account tokens and
 * whatever else the cluster accepts work as they do for kubectl. Answers are cached by the token's SHA-256
 * (the token itself is not kept): valid ones for `ttlMs` but never past the token's own `exp`, rejections for
 * `negativeTtlMs`. Concurrent checks of one token share one review. An API server that fails or does not
 * answer is not cached: the check rejects with {@link AuthUnavailableError} (503), never "invalid token".
 *
 * @example
 * new TokenReviewVerifier({ api: new KubeClient(loadKubeConfig(undefined)), now: () => clock.now(), audiences: ['tai'] })
 */
export class TokenReviewVerifier implements TokenVerifier {
  readonly #opts: TokenReviewOptions;
  readonly #cache = new Map<string, Answer>();
  readonly #inflight = new Map<string, Promise<Principal | undefined>>();

  constructor(opts: TokenReviewOptions) {
    this.#opts = opts;
  }

  async verify(token: string): Promise<Principal | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.#lookup(key);
    if (cached) return copy(cached.principal);
    let review = this.#inflight.get(key);
    if (!review) {
      review = this.#review(token, key).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, review);
    }
    return copy(await review);
  }

  /** Cached answers held now (expired ones included until looked up or pushed out). */
  get size(): number {
    return this.#cache.size;
  }

  async #review(token: string, key: string): Promise<Principal | undefined> {
    const status = await this.#ask(token);
    const principal = principalOf(status, this.#opts.audiences);
    const now = this.#opts.now();
    const until = principal ? Math.min(now + (this.#opts.ttlMs ?? 60_000), jwtExpiry(token) ?? Infinity) : now + (this.#opts.negativeTtlMs ?? 10_000);
    this.#remember(key, { principal, until });
    return principal;
  }

  async #ask(token: string): Promise<TokenReviewStatus> {
    const spec = this.#opts.audiences ? { token, audiences: this.#opts.audiences } : { token };
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
    let answer: { status?: TokenReviewStatus } | undefined;
    try {
      answer = await this.#opts.api.request('POST', TOKEN_REVIEW_PATH, { body, timeoutMs: this.#opts.timeoutMs ?? 5_000 });
    } catch (e) {
      throw new AuthUnavailableError('the Kubernetes API server did not answer the TokenReview', { cause: e });
    }
    if (typeof answer?.status !== 'object' || answer.status === null) throw new AuthUnavailableError('the Kubernetes API server answered a TokenReview without a status');
    return answer.status;
  }

  #lookup(key: string): Answer | undefined {
    const answer = this.#cache.get(key);
    if (!answer) return undefined;
    this.#cache.delete(key);
    if (answer.until <= this.#opts.now()) return undefined;
    this.#cache.set(key, answer); // most recently used last: a Map iterates in insertion order
    return answer;
  }

  #remember(key: string, answer: Answer): void {
    this.#cache.delete(key);
    this.#cache.set(key, answer);
    const max = this.#opts.maxEntries ?? 10_000;
    for (const oldest of this.#cache.keys()) {
      if (this.#cache.size <= max) break;
      this.#cache.delete(oldest);
    }
  }
}

/** The principal of an authenticated review whose audiences (when asked for) overlap the ones wanted. */
function principalOf(status: TokenReviewStatus, audiences: string[] | undefined): Principal | undefined {
  const name = status.user?.username;
  if (status.authenticated !== true || !name) return undefined;
  if (!meantFor(status, audiences)) return undefined;
  const principal: Principal = { name, groups: [...(status.user?.groups ?? [])] };
  if (status.user?.uid) principal.uid = status.user.uid;
  return principal;
}

/** The API docs: a client that sets spec.audiences must check that status.audiences names one of them. */
function meantFor(status: TokenReviewStatus, audiences: string[] | undefined): boolean {
  return !audiences || (status.audiences ?? []).some((a) => audiences.includes(a));
}

/** The `exp` of a JWT in ms, read without verifying (the API server did that); undefined for anything else. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function copy(principal: Principal | undefined): Principal | undefined {
  return principal && { ...principal, groups: [...principal.groups] };
}
