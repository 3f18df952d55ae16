export * from './kube-client.ts';
