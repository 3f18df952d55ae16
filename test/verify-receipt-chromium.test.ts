// A receipt verified in a real browser (issue 18, Log page): headless Chromium (Debian's package, installed by
// hack/chromium.sh) loads a fixture page from the same origin as a real `tai serve --from config/samples`,
// with a strict CSP, and http/ui/static/verify-page.js checks a decision's receipt against the served log
// (checkpoint, hash tiles, entry bundle) with WebCrypto: a real receipt verifies; a flipped byte in the entry
// (the bundle rewritten in flight) is refused naming the leaf hash; another pinned key is refused naming the
// signature. Not one console error or CSP violation.
import test from 'ava';
import { access, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import { generateNoteKey } from '../receipts/signed-note.ts';
import { uiStatic } from '../http/ui/static-routes.ts';
import { eventually, post, startServe, stopServe, type Served } from './support/served.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page's side of the contract documented at the top of verify-page.js, and nothing more. */
const FIXTURE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Verify a receipt</title><script type="module" src="/ui/static/verify-page.js"></script></head>
<body><main>
<h1>Verify a receipt</h1>
<form id="verify-form" data-log="/log/">
<label for="verify-receipt">Entry index or receipt</label> <textarea id="verify-receipt"></textarea>
<label for="verify-key">Pinned verifier key</label> <input id="verify-key" autocomplete="off">
<button type="submit">Verify</button>
</form>
<div id="verify-result"></div>
</main></body>
</html>`;

interface Receipt {
  index: number;
  leafHash: string;
}

let served: Served;
let browser: Browser;
let verifierKey: string;
let answers: { receipt: Receipt }[];

test.before(async (t) => {
  t.timeout(60_000);
  try {
    await access(CHROMIUM);
  } catch {
    throw new Error(`${CHROMIUM} is missing: run bash hack/chromium.sh (hack/test.sh does) to install Debian's chromium package`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'tai-verify-chromium-'));
  served = await startServe(['--from', join(ROOT, 'config/samples'), '--listen', '127.0.0.1:0', '--log', join(dir, 'log')]);
  verifierKey = (await readFile(join(dir, 'signing.key.pub'), 'utf8')).trim();
  answers = [];
  for (let i = 0; i < 3; i++) answers.push((await post(`${served.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 1 })) as unknown as { receipt: Receipt });
  const last = answers.at(-1)!.receipt.index;
  const published = await eventually(async () => {
    const note = await (await fetch(`${served.url}/log/checkpoint`)).text().catch(() => '');
    return Number(note.split('\n')[1]) > last;
  });
  if (!published) throw new Error(`the log did not publish entry ${last}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

test.after.always(async () => {
  await browser?.close();
  if (served) await stopServe(served);
});

/** Serves the fixture page and uiStatic() from the served log's origin; the log itself is the real server's. */
async function routeUi(route: Route): Promise<void> {
  const path = new URL(route.request().url()).pathname;
  if (path === '/ui/verify') return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', headers: { 'content-security-policy': CSP }, body: FIXTURE });
  const res = await uiStatic().request(path.slice('/ui/static'.length));
  return route.fulfill({ status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) });
}

/** A fresh page at the fixture, recording console errors, uncaught exceptions and CSP violations. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.route(`${served.url}/ui/**`, routeUi);
  await page.route(`${served.url}/favicon.ico`, (r) => r.fulfill({ status: 204 }));
  await page.goto(`${served.url}/ui/verify`);
  return { page, errors };
}

/** Fills the form, submits it with the keyboard, and returns the verdict the live region settles on. */
async function verify(page: Page, receipt: string, key: string): Promise<{ verdict: string; check: string | null; text: string }> {
  await page.fill('#verify-receipt', receipt);
  await page.fill('#verify-key', key);
  await page.focus('#verify-key');
  await page.keyboard.press('Enter');
  const out = page.locator('#verify-result[data-verdict="verified"], #verify-result[data-verdict="rejected"]');
  await out.waitFor({ timeout: 10_000 });
  return { verdict: (await out.getAttribute('data-verdict'))!, check: await out.getAttribute('data-check'), text: await out.innerText() };
}

test('a real receipt verifies in the browser: signature, leaf hash and proof; the key stays pinned', async (t) => {
  const { page, errors } = await openPage();
  t.is(await page.getAttribute('#verify-result', 'aria-live'), 'polite');
  t.is(await page.getAttribute('#verify-result', 'role'), 'status');
  const { receipt } = answers[1]!;
  const r = await verify(page, JSON.stringify(answers[1]), verifierKey);
  t.is(r.verdict, 'verified', r.text);
  t.regex(r.text, new RegExp(`Verified: entry ${receipt.index} is in the log \\S+ of \\d+ entries`));
  t.regex(r.text, new RegExp(`signature: the checkpoint is signed by the pinned key ${verifierKey.split('+').slice(0, 2).join('\\+')}`));
  t.regex(r.text, new RegExp(`leaf: SHA-256\\(0x00 ‖ entry\\) = ${receipt.leafHash}`));
  t.regex(r.text, /proof: \d+ audit-path hashes lead to the signed root [0-9a-f]{64}/);

  const byIndex = await verify(page, String(answers[0]!.receipt.index), verifierKey);
  t.is(byIndex.verdict, 'verified', byIndex.text);
  await page.reload();
  t.is(await page.inputValue('#verify-key'), verifierKey, 'the pinned key is remembered');
  t.deepEqual(errors, []);
  await page.close();
});

/** Offset of entry `index % 256`'s last byte in an entry bundle (uint16 length-prefixed entries). */
function lastByteOf(bundle: Buffer, index: number): number {
  let at = 0;
  for (let i = 0; i < index % 256; i++) at += 2 + bundle.readUInt16BE(at);
  return at + 1 + bundle.readUInt16BE(at);
}

test('a flipped byte in the entry is refused naming the leaf hash', async (t) => {
  const { page, errors } = await openPage();
  const { receipt } = answers[2]!;
  await page.route(`${served.url}/log/tile/entries/**`, async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[lastByteOf(body, receipt.index)]! ^= 0x01;
    await route.fulfill({ response: res, body });
  });
  for (const input of [JSON.stringify(receipt), String(receipt.index)]) {
    const r = await verify(page, input, verifierKey);
    t.is(r.verdict, 'rejected', r.text);
    t.is(r.check, 'leaf');
    t.regex(r.text, /LeafHashMismatch: leaf hash: SHA-256\(0x00 ‖ entry\) is [0-9a-f]{64}, (the receipt says|the log's hash tile holds) [0-9a-f]{64}/);
  }
  t.deepEqual(errors, []);
  await page.close();
});

test('a receipt checked against the wrong key is refused naming the signature', async (t) => {
  const { page, errors } = await openPage();
  const name = verifierKey.split('+')[0]!;
  const other = generateNoteKey(name, new Uint8Array(32).fill(0x42)).verifierKey;
  const r = await verify(page, JSON.stringify(answers[0]!.receipt), other);
  t.is(r.verdict, 'rejected', r.text);
  t.is(r.check, 'signature');
  t.regex(r.text, /NoPinnedSignature: the checkpoint carries no signature by the pinned key/);
  const malformed = await verify(page, JSON.stringify(answers[0]!.receipt), 'not a key');
  t.is(malformed.check, 'input');
  t.regex(malformed.text, /BadKey/);
  t.deepEqual(errors, []);
  await page.close();
});
