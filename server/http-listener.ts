import { serve as serveHttp, type ServerType } from '@hono/node-server';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { inFrontOf, type LeanHandler } from '../http/lean/index.ts';
import { DEFAULT_HTTP_LIMITS, guardServer, serverTimeouts, type HttpLimits } from './http-limits.ts';
import type { CommandIO } from './io.ts';
import type { ListenAddress } from './listen.ts';
import { listenTls } from './tls-server.ts';

export { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http-limits.ts';

/** `--tls-cert` / `--tls-key`: PEM files, reloaded when they change. */
export interface TlsPaths {
  certPath: string;
  keyPath: string;
}

export interface Listener {
  /** `http://HOST:PORT` or `https://HOST:PORT`, with the port the server got. */
  url: string;
  /** Stops accepting and resolves once the requests in flight are answered (each with `Connection: close`). */
  close(): Promise<void>;
}

/** Where and how to listen: over HTTPS when certificate files are given, with these limits (default DEFAULT_HTTP_LIMITS). */
export interface ListenOptions {
  at: ListenAddress;
  tls: TlsPaths | undefined;
  io: CommandIO;
  limits?: HttpLimits;
  /** The hot decision routes served from node:http in front of the app (http/lean/); the app serves the rest. */
  lean?: LeanHandler | undefined;
}

/** Listens over HTTPS when certificate files are given (rotated without a restart), else plain HTTP; both with `limits`. */
export async function listenOn(fetch: (req: Request) => Response | Promise<Response>, o: ListenOptions): Promise<Listener> {
  const { at, tls, io } = o;
  const limits = o.limits ?? DEFAULT_HTTP_LIMITS;
  if (tls) {
    const server = await listenTls(fetch, at, {
      ...tls,
      limits,
      lean: o.lean,
      onReload: (c) => io.out(`tai: serving certificate ${c.subject} (serial ${c.serialNumber}) until ${c.notAfter}`),
      onError: (e) => io.err(`tai: ${e.message}; the previous certificate keeps serving`),
    });
    const c = server.certificate;
    io.out(`tai: TLS certificate ${c.subject} (serial ${c.serialNumber}) until ${c.notAfter}, reloaded when ${tls.certPath} changes`);
    return { url: server.url, close: closingGracefully(server.server, () => server.close(), limits.keepAliveTimeoutMs) };
  }
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serveHttp({ fetch, hostname: at.host, port: at.port, createServer: inFrontOf(o.lean, createServer), serverOptions: serverTimeouts(limits) }, () => resolve(s));
    guardServer(s, limits);
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${at.host.includes(':') ? `[${at.host}]` : at.host}:${port}`,
    close: closingGracefully(server as Server, () => new Promise<void>((resolve) => server.close(() => resolve())), limits.keepAliveTimeoutMs),
  };
}

/**
 * A close that drains (SIGTERM: a rollout, a node drain): stop accepting and wait for the requests in flight;
 * their answers, and those of requests read later, say `Connection: close`, so no client sends another on that
 * connection. Otherwise a client reusing it (the API server calling the webhook under load; kube-proxy keeps an
 * open connection on its pod) would hold the server open until the grace period's SIGKILL cut the reviews then in
 * flight. Node's close would also reset the connections the kernel queued and a busy event loop has not accepted
 * yet, and close at once every connection it has read no request on, cutting a request the client is sending on
 * it this instant: each a failed webhook call. So a poll phase, which accepts them, runs first, and a connection
 * is closed once it has carried no request for the keep-alive timeout, when it would have been closed anyway (a
 * shorter wait cut reviews of a burst still going on).
 */
function closingGracefully(server: Server, close: () => Promise<void>, keepAliveMs: number): () => Promise<void> {
  const open = new Set<ServerResponse>();
  let closing = false;
  const lastOnItsConnection = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (closing) return lastOnItsConnection(res);
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return async () => {
    closing = true;
    open.forEach(lastOnItsConnection);
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve))); // a whole turn: a poll phase between
    const closeIdle = server.closeIdleConnections.bind(server);
    server.closeIdleConnections = () => undefined; // not at once, in Node's close
    const idle = setInterval(closeIdle, keepAliveMs);
    try {
      await close();
    } finally {
      clearInterval(idle);
    }
  };
}
