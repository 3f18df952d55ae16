// The server `tai serve` starts: its assembly (governor-server.ts), listeners, TLS reload, auth, anchoring, run state,
// log origin and key, publish health, published heads, policy boundaries and the embedded and cluster policy feeds.
// cli/ parses the arguments and calls in here; only cli/ and tests import server/ (docs/adr/0013-layers-point-inward.md).
export * from './anchoring.ts';
export * from './auth-config.ts';
export * from './cluster-admission.ts';
export * from './cluster-feed.ts';
export * from './embedded-feed.ts';
export * from './embedded-policy.ts';
export * from './gcs-storage.ts';
export * from './governor-server.ts';
export * from './http-limits.ts';
export * from './http-listener.ts';
export * from './io.ts';
export * from './listen.ts';
export * from './log-key.ts';
export * from './log-origin.ts';
export * from './policy-boundaries.ts';
export * from './policy-feed.ts';
export * from './policy-folder.ts';
export * from './poll-every.ts';
export * from './publish-health.ts';
export * from './published-heads.ts';
export * from './tls-server.ts';
