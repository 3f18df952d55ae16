import { serve as serveHttp, type ServerType } from '@hono/node-server';
import type { CommandIO } from './io.ts';
import type { ListenAddress } from './listen.ts';
import { listenTls } from './tls-server.ts';

/** `--tls-cert` / `--tls-key`: PEM files, reloaded when they change. */
export interface TlsPaths {
  certPath: string;
  keyPath: string;
}

export interface Listener {
  /** `http://HOST:PORT` or `https://HOST:PORT`, with the port the server got. */
  url: string;
  close(): Promise<void>;
}

/** Listens over HTTPS when certificate files are given (rotated without a restart), else plain HTTP. */
export async function listenOn(fetch: (req: Request) => Response | Promise<Response>, at: ListenAddress, tls: TlsPaths | undefined, io: CommandIO): Promise<Listener> {
  if (tls) {
    const server = await listenTls(fetch, at, {
      ...tls,
      onReload: (c) => io.out(`tai: serving certificate ${c.subject} (serial ${c.serialNumber}) until ${c.notAfter}`),
      onError: (e) => io.err(`tai: ${e.message}; the previous certificate keeps serving`),
    });
    const c = server.certificate;
    io.out(`tai: TLS certificate ${c.subject} (serial ${c.serialNumber}) until ${c.notAfter}, reloaded when ${tls.certPath} changes`);
    return { url: server.url, close: () => server.close() };
  }
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serveHttp({ fetch, hostname: at.host, port: at.port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${at.host.includes(':') ? `[${at.host}]` : at.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
