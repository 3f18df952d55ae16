import type { IncomingMessage } from 'node:http';

/** The connection closed before the body arrived whole: there is no one to answer. */
export class BodyCutOffError extends Error {
  constructor() {
    super('the connection closed before the request arrived whole');
    this.name = 'BodyCutOffError';
  }
}

/** Decodes as WHATWG Request.text() does (UTF-8, a leading BOM dropped, bad bytes replaced): the app's reading. */
const utf8 = new TextDecoder();

/** The whole body as text (Node's parser stops at its Content-Length). */
export function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))));
    req.once('error', () => reject(new BodyCutOffError()));
    req.once('close', () => {
      if (!req.complete) reject(new BodyCutOffError());
    });
  });
}

/** What @hono/node-server allows an unread body once the answer is sent: 500 ms and 64 MiB, then the socket closes. */
const DRAIN_MS = 500;
const DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * After an answer sent without reading the body (413, 415, 401): reads and drops the rest, so the connection can
 * carry the next request, as the app's adapter does; a body slower or larger than it allows closes the connection.
 */
export function drainUnread(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return;
  let read = 0;
  const close = (): void => {
    done();
    const socket = req.socket;
    if (!socket.destroyed) socket.destroySoon();
  };
  const timer = setTimeout(close, DRAIN_MS).unref();
  const onData = (chunk: Buffer): void => {
    read += chunk.length;
    if (read > DRAIN_BYTES) close();
  };
  const done = (): void => {
    clearTimeout(timer);
    req.off('data', onData).off('end', done).off('error', done);
  };
  req.on('data', onData).on('end', done).on('error', done);
  req.resume();
}
