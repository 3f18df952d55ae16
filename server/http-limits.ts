// How long a client may take and how many may connect: the listener's limits (plain HTTP and HTTPS alike), and
// what a client whose request Node refuses before the app sees it is answered (a problem, like the app's).
import type { Server as NetServer, Socket } from 'node:net';
import { PROBLEMS, type ProblemKind } from '../http/problem.ts';

/** The listener's limits; `tai serve --request-timeout/--headers-timeout/--keep-alive-timeout/--max-connections`. */
export interface HttpLimits {
  /** The whole request, headers and body, in ms (Node's requestTimeout). Past it: 408 and the connection closed. */
  requestTimeoutMs: number;
  /** The request headers, in ms (Node's headersTimeout); at most requestTimeoutMs. */
  headersTimeoutMs: number;
  /** An idle kept-alive connection, in ms (Node's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** Open connections at once (net.Server maxConnections); more are dropped as they arrive. */
  maxConnections: number;
  /** How often timeouts are looked for, in ms (Node's connectionsCheckingInterval, 30 000 by default). */
  checkIntervalMs?: number;
}

/**
 * 30 s for a request (Node's default is 300 s: a trickling client held a connection for five minutes), 10 s for
 * its headers, 5 s idle keep-alive (Node's), 1 024 connections. A 7 MiB AdmissionReview from the API server
 * arrives in well under a second; the API server's own webhook timeout is at most 30 s.
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, maxConnections: 1024, checkIntervalMs: 1_000 };

/** Node's http/https server options for `limits` (given to createServer: some are read only there). */
export function serverTimeouts(limits: HttpLimits): { requestTimeout: number; headersTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  return {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs ?? DEFAULT_HTTP_LIMITS.checkIntervalMs!,
  };
}

/** Kinds of the errors Node's parser and timers raise before a request reaches the app. */
const CLIENT_ERRORS: Record<string, { kind: ProblemKind; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { kind: 'request-timeout', detail: 'the request was not received in time; send it whole and promptly' },
  HPE_HEADER_OVERFLOW: { kind: 'request-header-too-large', detail: 'the request headers are too large' },
  HPE_INVALID_METHOD: { kind: 'method-not-implemented', detail: 'the request method is not one this server knows; the API answers GET, HEAD, POST (see /openapi.json)' },
};

function problemResponse(kind: ProblemKind, detail: string): string {
  const { status, title } = PROBLEMS[kind];
  const body = JSON.stringify({ type: `https://tai.dev/problems/${kind}`, title, status, detail });
  const reason = title.replace(/[^\x20-\x7e]/g, '');
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Whether an answer to the request on `socket` has started (then nothing more can be written on it). */
function answerStarted(socket: Socket): boolean {
  const message = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return message?.headersSent === true;
}

/**
 * Applies `limits` the server did not take at creation (the connection limit) and answers the requests Node
 * refuses before the app sees them — too slow, headers too large, a method its parser does not know, bytes that
 * are not HTTP — with application/problem+json instead of Node's bare text, then closes the connection.
 */
export function guardServer(server: NetServer, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || answerStarted(socket)) return void socket.destroy();
    const known = CLIENT_ERRORS[error.code ?? ''] ?? { kind: 'invalid-request', detail: `not an HTTP/1.1 request this server can read (${error.code ?? error.message})` };
    socket.end(problemResponse(known.kind, known.detail), () => socket.destroy());
  });
}
