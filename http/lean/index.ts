export { leanRoutes, type LeanHandler } from './lean-routes.ts';
export { inFrontOf } from './in-front-of.ts';
