/**
 * The baselines of the HTTP scenarios: a bare node:http server doing the least a server can do for the same
 * request. `fixed-json` reads the body and answers a fixed JSON decision; `parse` also JSON.parses the body and
 * answers an AdmissionReview allowing it (the least an admission webhook must do). Prints its URL.
 *
 *   node bench/load/bare-server.ts fixed-json|parse
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

const mode = process.argv[2];
if (mode !== 'fixed-json' && mode !== 'parse') {
  console.error('usage: node bench/load/bare-server.ts fixed-json|parse');
  process.exit(2);
}

const FIXED = JSON.stringify({ op: 'consume', tenant: 'bench-co', metric: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: 1, limit: 1e12, remaining: 1e12 - 1 });

function readBody(req: IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => done(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()));
}

function answer(body: string): string {
  if (mode === 'fixed-json') return FIXED;
  const review = JSON.parse(body) as { request?: { uid?: string } };
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request?.uid ?? '', allowed: true } });
}

const server = createServer((req, res) => {
  readBody(req, (body) => {
    const out = answer(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`bare server (${mode}) listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
