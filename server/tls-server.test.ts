import test, { type ExecutionContext } from 'ava';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { makeTestCa } from '../test/support/certs.ts';
import { listenTls, type CertificateInfo, type TlsFiles } from './tls-server.ts';

// Real TLS sockets and real certificates: openssl makes a CA and server certificates it signs, each with
// subjectAltName IP:127.0.0.1 and its own serial, so a client sees which one the server presents.

const fetch = (req: Request): Response => new Response(`hello ${new URL(req.url).pathname}`);

let certs: string;
test.before(() => {
  const ca = makeTestCa('tai-tls-certs-');
  ca.issue('one', '1001');
  ca.issue('two', '2002');
  certs = ca.dir;
});
test.after.always(async () => {
  await rm(certs, { recursive: true, force: true });
});

interface Seen {
  status: number;
  body: string;
  serial: string;
  fingerprint256: string;
}

/** One request on a new connection (no agent), trusting only the test CA. */
async function get(url: string, path = '/'): Promise<Seen> {
  const ca = await readFile(join(certs, 'ca.crt'));
  return new Promise((resolve, reject) => {
    const req = request(url + path, { ca, agent: false, minVersion: 'TLSv1.2' }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial: peer.serialNumber, fingerprint256: peer.fingerprint256 }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls `probe` until it holds, up to a generous deadline (no timing is asserted, only the outcome). */
async function eventually(probe: () => Promise<boolean>, deadlineMs = 15_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function place(name: string, files: { cert: string; key: string }): Promise<void> {
  await copyFile(join(certs, `${name}.key`), files.key);
  await copyFile(join(certs, `${name}.crt`), files.cert);
}

async function setup(t: ExecutionContext, opts: Partial<TlsFiles> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-tls-'));
  const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
  await place('one', files);
  const reloads: CertificateInfo[] = [];
  const errors: Error[] = [];
  const tls = await listenTls(fetch, { host: '127.0.0.1', port: 0 }, {
    certPath: files.cert,
    keyPath: files.key,
    pollMs: 200,
    onReload: (info) => reloads.push(info),
    onError: (e) => errors.push(e),
    ...opts,
  });
  t.teardown(async () => {
    await tls.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, files, tls, reloads, errors };
}

test('serves the Hono fetch over HTTPS to a client that trusts the CA', async (t) => {
  const { tls } = await setup(t);
  t.regex(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const seen = await get(tls.url, '/v1/check');
  t.is(seen.status, 200);
  t.is(seen.body, 'hello /v1/check');
  t.is(seen.serial, '1001');
  t.like(tls.certificate, { subject: 'CN=one', serialNumber: '1001', fingerprint256: seen.fingerprint256 });
  t.regex(tls.certificate.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('refuses TLS 1.1 and a client that does not trust the CA', async (t) => {
  const { tls } = await setup(t);
  // The client offers at most TLS 1.1 (allowed at OpenSSL security level 0): the server's alert refuses it.
  const old = new Promise<string>((resolve) => {
    const req = request(tls.url, { rejectUnauthorized: false, agent: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => resolve('accepted'));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
  t.regex(await old, /alert protocol version/);
  const untrusted = new Promise<string>((resolve) => {
    const req = request(tls.url, { agent: false }, () => resolve('accepted'));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
  t.is(await untrusted, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
});

test('a new certificate and key written in place serve the next connection, without a restart', async (t) => {
  const { tls, files, reloads } = await setup(t);
  t.is((await get(tls.url)).serial, '1001');
  await place('two', files);
  t.true(await eventually(async () => (await get(tls.url)).serial === '2002'));
  t.is((await get(tls.url)).body, 'hello /');
  t.like(reloads.at(-1), { subject: 'CN=two', serialNumber: '2002' });
  t.is(tls.certificate.serialNumber, '2002');
});

test('a certificate whose key does not match is reported and the previous certificate keeps serving; the completed rotation is then picked up', async (t) => {
  const { tls, files, errors, reloads } = await setup(t);
  await copyFile(join(certs, 'two.crt'), files.cert); // the key is still one's: a half-done rotation
  t.true(await eventually(async () => errors.length > 0));
  t.regex(errors[0]!.message, /tls\.crt and .*tls\.key are not a usable pair: .*key values mismatch/);
  t.is((await get(tls.url)).serial, '1001');
  t.is(tls.certificate.serialNumber, '1001');
  t.is(reloads.length, 0);
  // Nothing changed on disk: the same broken pair is not tried (or reported) again.
  t.false(await tls.reload());
  t.is(errors.length, 1);
  await copyFile(join(certs, 'two.key'), files.key);
  t.true(await eventually(async () => (await get(tls.url)).serial === '2002'));
});

test('garbage and missing files are reported, never fatal', async (t) => {
  const { tls, files, errors } = await setup(t, { watch: false, pollMs: 0 });
  await writeFile(files.cert, '-----BEGIN CERTIFICATE-----\nnot base64\n');
  t.false(await tls.reload());
  t.regex(errors.at(-1)!.message, /not a usable pair/);
  await rm(files.key);
  t.false(await tls.reload());
  t.regex(errors.at(-1)!.message, /cannot read the certificate or key: ENOENT/);
  t.is((await get(tls.url)).serial, '1001');
  await place('two', files);
  t.true(await tls.reload());
  t.is((await get(tls.url)).serial, '2002');
});

test('start fails naming the files when the first pair is unusable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cert = join(dir, 'tls.crt');
  await copyFile(join(certs, 'one.crt'), cert);
  await copyFile(join(certs, 'two.key'), join(dir, 'tls.key'));
  const error = await t.throwsAsync(listenTls(fetch, { host: '127.0.0.1', port: 0 }, { certPath: cert, keyPath: join(dir, 'tls.key') }));
  t.regex(error.message, /tls\.crt and .*tls\.key are not a usable pair/);
  await t.throwsAsync(listenTls(fetch, { host: '127.0.0.1', port: 0 }, { certPath: join(dir, 'missing.crt'), keyPath: join(dir, 'tls.key') }), { message: /ENOENT.*missing\.crt/ });
});

/**
 * The layout kubelet gives a Secret volume: `tls.crt -> ..data/tls.crt`, `..data -> ..<timestamp>`; an update
 * writes a new timestamped directory and renames a `..data_tmp` symlink over `..data`.
 */
async function kubeletVolume(dir: string, version: string, name: string): Promise<void> {
  const payload = join(dir, `..${version}`);
  await mkdir(payload);
  await copyFile(join(certs, `${name}.crt`), join(payload, 'tls.crt'));
  await copyFile(join(certs, `${name}.key`), join(payload, 'tls.key'));
  await symlink(`..${version}`, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
}

async function kubeletSetup(t: ExecutionContext, opts: Partial<TlsFiles>) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-tls-secret-'));
  await kubeletVolume(dir, '2026_11_28_12_00_00.1', 'one');
  await symlink('..data/tls.crt', join(dir, 'tls.crt'));
  await symlink('..data/tls.key', join(dir, 'tls.key'));
  const errors: Error[] = [];
  const tls = await listenTls(fetch, { host: '127.0.0.1', port: 0 }, { certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key'), onError: (e) => errors.push(e), ...opts });
  t.teardown(async () => {
    await tls.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, tls, errors };
}

test('a Kubernetes Secret volume update (the ..data symlink swap) is seen by the directory watch', async (t) => {
  const { dir, tls, errors } = await kubeletSetup(t, { pollMs: 0 }); // no poll: only the watch can see it
  t.is((await get(tls.url)).serial, '1001');
  await kubeletVolume(dir, '2026_11_28_13_00_00.2', 'two');
  await rm(join(dir, '..2026_11_28_12_00_00.1'), { recursive: true });
  t.true(await eventually(async () => (await get(tls.url)).serial === '2002'));
  t.deepEqual(errors, []);
});

test('the poll finds a rotation when the filesystem gives no events', async (t) => {
  const { dir, tls } = await kubeletSetup(t, { watch: false, pollMs: 100 });
  await kubeletVolume(dir, '2026_11_28_13_00_00.2', 'two');
  t.true(await eventually(async () => (await get(tls.url)).serial === '2002'));
});

test('close stops the server and the watch', async (t) => {
  const { tls, files, reloads } = await setup(t);
  const url = tls.url;
  await tls.close();
  await t.throwsAsync(get(url), { code: 'ECONNREFUSED' });
  await place('two', files);
  t.false(await eventually(async () => reloads.length > 0, 600));
});
