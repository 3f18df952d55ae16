import type { Context } from 'hono';
import { problem } from './problem.ts';

/** A registered route as Hono lists it (`app.routes`): its method and path pattern (`:param`, `*`). */
export interface RouteEntry {
  method: string;
  path: string;
}

/** The pattern as an anchored regular expression: `:name` is one segment, `*` anything (also nothing). */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source.replace(/\/\.\*$/, '(?:/.*)?')}$`);
}

/**
 * The methods some route answers at `path`, in a stable order; HEAD with GET, since Hono answers HEAD from the
 * GET handler. Middleware (method ALL) answers nothing by itself and is left out. Empty: no such path.
 *
 * @example allowedMethods(app.routes, '/v1/check') // ['POST']
 */
export function allowedMethods(routes: readonly RouteEntry[], path: string): string[] {
  const methods = new Set(routes.filter((r) => r.method !== 'ALL' && patternOf(r.path).test(path)).map((r) => r.method));
  if (methods.has('GET')) methods.add('HEAD');
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
  return [...methods].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

/**
 * What answers a request no route took: for a path some route answers with other methods, 405 problem+json
 * with `Allow` (RFC 9110 §15.5.6), or 204 with `Allow` for OPTIONS; else 404 problem+json.
 */
export function unroutedAnswer(c: Context, routes: readonly RouteEntry[]): Response {
  const allow = allowedMethods(routes, c.req.path);
  if (allow.length === 0) return problem(c, 'not-found', `no route for ${c.req.method} ${c.req.path}`);
  if (c.req.method === 'OPTIONS') return c.body(null, 204, { allow: allow.join(', ') });
  const res = problem(c, 'method-not-allowed', `${c.req.path} answers ${allow.join(', ')}, not ${c.req.method}`);
  res.headers.set('allow', allow.join(', '));
  return res;
}
