import { serve } from '@hono/node-server';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { watchFiles } from '../http/file-watch.ts';
import { inFrontOf, type LeanHandler } from '../http/lean/index.ts';
import { DEFAULT_HTTP_LIMITS, guardServer, serverTimeouts, type HttpLimits } from './http-limits.ts';
import type { ListenAddress } from './listen.ts';

/** The certificate being served, as reported after each reload. */
export interface CertificateInfo {
  subject: string;
  /** When the certificate expires, RFC 3339. */
  notAfter: string;
  /** SHA-256 fingerprint, colon-separated hex (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint256: string;
  serialNumber: string;
}

export interface TlsFiles {
  /** PEM certificate (chain) and private key; `--tls-cert` / `--tls-key`, or a mounted `kubernetes.io/tls` Secret. */
  certPath: string;
  keyPath: string;
  /** Poll interval for changes the directory watch misses, in ms (default 10 000). */
  pollMs?: number;
  /** Set false on filesystems without change events; the poll alone then finds rotations. */
  watch?: boolean;
  /** Hears each new certificate put in service after the first. */
  onReload?(info: CertificateInfo): void;
  /** Hears a rotation that could not be used (unreadable, not PEM, key and certificate do not match). */
  onError?(error: Error): void;
  /** Timeouts and the connection limit (default DEFAULT_HTTP_LIMITS). */
  limits?: HttpLimits;
  /** The hot decision routes served from node:https in front of the app (http/lean/). */
  lean?: LeanHandler | undefined;
}

export interface TlsServer {
  readonly server: Server;
  /** `https://HOST:PORT`, with the port the server got. */
  readonly url: string;
  /** The certificate in service now. */
  readonly certificate: CertificateInfo;
  /** Reads the files now; true when a new certificate went into service. */
  reload(): Promise<boolean>;
  /** Stops watching and closes the server (open requests finish). */
  close(): Promise<void>;
}

/** Protocol floor for every context, the first and each reloaded one. */
const TLS_FLOOR: SecureContextOptions = { minVersion: 'TLSv1.2' };

/**
 * Serves `fetch` over HTTPS/1.1 (TLS 1.2 or later) and keeps the certificate current without a restart: when
 * the certificate or key file changes (a cert-manager renewal, a Secret update), both are read, checked as a
 * pair and put in service for new connections. A pair that cannot be used — half written, mismatched, not
 * PEM — goes to `onError` and the previous certificate keeps serving until the files change again.
 * Fails at start, naming the files, when the first pair is unusable.
 *
 * @example
 * const tls = await listenTls(app.fetch, { host: '0.0.0.0', port: 8443 }, {
 *   certPath: '/tls/tls.crt', keyPath: '/tls/tls.key',
 *   onReload: (c) => io.out(`tai: serving certificate ${c.subject} until ${c.notAfter}`),
 *   onError: (e) => io.err(`tai: ${e.message}; the previous certificate keeps serving`),
 * });
 */
export async function listenTls(fetch: (req: Request) => Response | Promise<Response>, at: ListenAddress, tls: TlsFiles): Promise<TlsServer> {
  const pair = new CertificatePair(tls.certPath, tls.keyPath);
  const first = await pair.read();
  if (first.error) throw first.error;
  const loaded = first.loaded!;
  let certificate = loaded.info;
  const server = await listenHttps(fetch, at, { tls: { ...TLS_FLOOR, cert: loaded.cert, key: loaded.key }, limits: tls.limits ?? DEFAULT_HTTP_LIMITS, lean: tls.lean });
  const reload = async (): Promise<boolean> => {
    const next = await pair.read();
    if (next.error) tls.onError?.(next.error);
    if (!next.loaded) return false;
    server.setSecureContext({ ...TLS_FLOOR, cert: next.loaded.cert, key: next.loaded.key });
    certificate = next.loaded.info;
    tls.onReload?.(certificate);
    return true;
  };
  let closing: Promise<void> | undefined;
  const unwatch = watchFiles([tls.certPath, tls.keyPath], async () => void (await reload()), { pollMs: tls.pollMs, watch: tls.watch });
  return {
    server,
    url: `https://${at.host.includes(':') ? `[${at.host}]` : at.host}:${portOf(server)}`,
    get certificate() {
      return certificate;
    },
    reload,
    close: () => {
      unwatch();
      closing ??= new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      return closing;
    },
  };
}

interface LoadedPair {
  cert: Buffer;
  key: Buffer;
  info: CertificateInfo;
}

/**
 * The certificate and key files, read together. Each distinct content (or read failure) is tried once: a
 * read that finds what the last one found answers nothing, so a broken pair is reported once, not every poll.
 */
class CertificatePair {
  readonly #certPath: string;
  readonly #keyPath: string;
  #seen = '';

  constructor(certPath: string, keyPath: string) {
    this.#certPath = certPath;
    this.#keyPath = keyPath;
  }

  async read(): Promise<{ loaded?: LoadedPair; error?: Error }> {
    let cert: Buffer, key: Buffer;
    try {
      [cert, key] = await Promise.all([readFile(this.#certPath), readFile(this.#keyPath)]);
    } catch (e) {
      return this.#once(`read:${(e as Error).message}`, () => ({ error: new Error(`TLS: cannot read the certificate or key: ${(e as Error).message}`) }));
    }
    const seen = `${digest(cert)}:${digest(key)}`;
    return this.#once(seen, () => {
      try {
        return { loaded: { cert, key, info: checkPair(cert, key) } };
      } catch (e) {
        return { error: new Error(`TLS: ${this.#certPath} and ${this.#keyPath} are not a usable pair: ${(e as Error).message}`) };
      }
    });
  }

  #once(seen: string, attempt: () => { loaded?: LoadedPair; error?: Error }): { loaded?: LoadedPair; error?: Error } {
    if (seen === this.#seen) return {};
    this.#seen = seen;
    return attempt();
  }
}

/** Builds the secure context the server would (which checks that the key belongs to the certificate) and describes the certificate. */
function checkPair(cert: Buffer, key: Buffer): CertificateInfo {
  createSecureContext({ ...TLS_FLOOR, cert, key });
  const x509 = new X509Certificate(cert);
  return {
    subject: x509.subject.replaceAll('\n', ', '),
    notAfter: new Date(x509.validTo).toISOString().replace('.000Z', 'Z'),
    fingerprint256: x509.fingerprint256,
    serialNumber: x509.serialNumber,
  };
}

function digest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function listenHttps(fetch: (req: Request) => Response | Promise<Response>, at: ListenAddress, o: { tls: SecureContextOptions; limits: HttpLimits; lean: LeanHandler | undefined }): Promise<Server> {
  return new Promise((resolve, reject) => {
    const serverOptions = { ...o.tls, ...serverTimeouts(o.limits) };
    const server = serve({ fetch, hostname: at.host, port: at.port, createServer: inFrontOf(o.lean, createServer), serverOptions }, () => resolve(server as Server));
    guardServer(server, o.limits);
    server.once('error', reject);
  });
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
