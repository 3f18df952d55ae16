// The package's public API: the resource schemas, the governor, and the HTTP app.
export * from './crds/index.ts';
export * from './governor/index.ts';
export * from './client/index.ts';
export { createApp, type AppOptions } from './http/app.ts';
export type { Readiness } from './readiness/index.ts';
export type { Problem } from './http/problem.ts';
