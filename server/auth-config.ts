import type { KubeApi } from '../kube/index.ts';
import type { TokenVerifier } from '../http/auth.ts';
import { TokenFileVerifier } from '../http/token-file.ts';
import { TokenReviewVerifier } from '../http/token-review.ts';
import type { CommandIO } from './io.ts';

/**
 * How decision API callers authenticate: bearer tokens checked by Kubernetes TokenReview (cluster mode's
 * default), bearer tokens from a static token file, or none — and then the server listens on loopback only.
 */
export type AuthConfig = { mode: 'none' } | { mode: 'token-file'; path: string } | { mode: 'tokenreview'; audiences?: string[] | undefined };

/** The verifier for an auth mode; TokenReview needs the cluster feed's API client. */
export async function openVerifier(auth: AuthConfig, o: { kube: KubeApi | undefined; now: () => number; io: CommandIO }): Promise<{ verifier: TokenVerifier; close(): void } | undefined> {
  switch (auth.mode) {
    case 'none':
      return undefined;
    case 'token-file': {
      const verifier = await TokenFileVerifier.open(auth.path, {
        onReload: (i) => o.io.out(`tai: ${i.file}: ${i.tokens} tokens in service`),
        onError: (e) => o.io.err(`tai: ${e.message}; the previous tokens stay in service`),
      });
      o.io.out(`tai: decision API callers authenticate with bearer tokens from ${auth.path}`);
      return { verifier, close: () => verifier.close() };
    }
    case 'tokenreview': {
      if (!o.kube) throw new Error('--auth tokenreview needs cluster mode (--kubeconfig or --in-cluster); use --token-file in embedded mode');
      o.io.out(`tai: decision API callers authenticate with bearer tokens checked by Kubernetes TokenReview${auth.audiences ? ` (audiences ${auth.audiences.join(', ')})` : ''}`);
      return { verifier: new TokenReviewVerifier({ api: o.kube, now: o.now, audiences: auth.audiences }), close: () => undefined };
    }
  }
}
