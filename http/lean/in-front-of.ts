import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { LeanHandler } from './lean-routes.ts';

/**
 * node:http's or node:https's `createServer` with the lean routes in front of the app's request listener (what
 * @hono/node-server's serve passes it): same server, same port, same TLS; every request the lean routes do not
 * take goes to the app untouched.
 */
export function inFrontOf<C extends (...args: never[]) => unknown>(lean: LeanHandler | undefined, create: C): C {
  if (!lean) return create;
  const build = create as unknown as (options: object, listener: RequestListener) => unknown;
  const wrapped = (options: object, app: RequestListener): unknown =>
    build(options, (req: IncomingMessage, res: ServerResponse) => {
      if (!lean(req, res)) app(req, res);
    });
  return wrapped as unknown as C;
}
