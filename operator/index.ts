export * from './informer.ts';
export * from './cluster-policy.ts';
export * from './leader-election.ts';
export * from './event-recorder.ts';
export * from './operator.ts';
export * from './namespace-index.ts';
