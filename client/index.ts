export * from './tai-client.ts';
