// The dashboard (GET /ui) in a real browser: headless Chromium (Debian's, hack/chromium.sh) through
// playwright-core, against a real `tai serve` on the sample tenants. Every page renders values read from the
// governor; a consume made through the API shows on the open tenant page without a reload; nothing breaks the
// Content-Security-Policy and no console error appears; axe-core finds no serious or critical violation; the pages
// work at phone width and print. Signing in (tokens checked) is tested over plain HTTP. With
// TAI_UPDATE_SCREENSHOT=1 the pages' screenshots replace docs/dashboard-*.png (the README shows them).
import test from 'ava';
import { access, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { runTai } from './support/log-fixture.ts';
import { getJson, post, startServe, stopServe, type Served } from './support/served.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AXE = resolve(import.meta.dirname, '../node_modules/axe-core/axe.min.js');
const SAMPLE_TENANTS = ['acme', 'globex', 'hooli', 'initech', 'stark', 'umbrella'];

let dir: string;
let served: Served;
let browser: Browser;

test.before(async () => {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: run bash hack/chromium.sh (hack/test.sh does)`);
  });
  dir = await mkdtemp(join(tmpdir(), 'tai-dashboard-'));
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  served = await startServe(['--from', join(dir, 'policy'), '--log', join(dir, 'log'), '--listen', '127.0.0.1:0']);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

test.after.always(async () => {
  await browser?.close();
  if (served) await stopServe(served);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A page that records console errors, failed requests and CSP violations. */
async function watchedPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));" });
  return { page, problems };
}

test.serial('every page renders the sample tenants from the governor; no console error, nothing against the CSP', async (t) => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const overview = await page.goto(`${served.url}/ui`);
  t.regex(overview!.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  t.is(await page.locator('h1').innerText(), 'Overview');
  const ready = (await getJson(`${served.url}/readyz`)) as { tenants: number; generation: number };
  t.is(await page.locator('[data-live-field="tenants"]').innerText(), String(ready.tenants));
  t.is(await page.locator('[data-live-field="generation"]').innerText(), String(ready.generation));

  await page.goto(`${served.url}/ui/tenants`);
  const names = await page.locator('table.tenants tbody th a').allInnerTexts();
  t.deepEqual(names, SAMPLE_TENANTS);
  await page.fill('#q', 'BREL');
  await page.press('#q', 'Enter');
  await page.waitForURL(/q=BREL/);
  t.deepEqual(await page.locator('table.tenants tbody th a').allInnerTexts(), ['umbrella']);

  await page.goto(`${served.url}/ui/tenants/acme`);
  t.is(await page.locator('h1').innerText(), 'Tenant acme');
  t.regex(await page.locator('table.entitlements').first().innerText(), /Tenant\/acme overrides false/);
  // Its history, read from the log as the audit report reads it: the policy change that made it.
  t.regex(await page.locator('table.history caption', { hasText: 'Policy changes' }).innerText(), /Policy changes: 1\b/);
  t.regex(await page.locator('table.history', { hasText: 'Policy changes' }).locator('pre').first().textContent() ?? '', /"sku": "growth"/);
  await page.goto(`${served.url}/ui/log`);
  t.regex(await page.locator('pre.note').innerText(), /^tai\.dev\/embedded\//);
  t.deepEqual(problems, []);
  await context.close();
});

test.serial('a consume made through the API shows on the open tenant page without a reload', async (t) => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(`${served.url}/ui/tenants/globex`);
  const figures = page.locator('[data-live-field="usage:api-calls"]');
  const before = await figures.innerText();
  t.regex(before, /^0 \//);
  const answer = await post(`${served.url}/v1/consume`, { tenant: 'globex', metric: 'api-calls', amount: 7 });
  t.like(answer, { allowed: true, used: 7 });
  // The page asks for fresh figures every second (Server-Sent Events): within 2 s the consume is on it.
  await figures.filter({ hasText: /^7 \// }).waitFor({ timeout: 2000 });
  t.is(await page.locator('meter[data-live-meter="api-calls"]').evaluate((m) => (m as unknown as { value: number }).value), 7);
  // Once published, the decision is in the page's history.
  await new Promise((r) => setTimeout(r, 1500));
  await page.reload();
  t.regex(await page.locator('table.history', { hasText: 'Decisions' }).innerText(), /consume api-calls × 7\s+allowed \(Allowed\)\s+7 \/ 100,000/);
  t.deepEqual(problems, []);
  await context.close();
});

test.serial('axe-core finds no serious or critical violation on any page; keyboard, phone width and print work', async (t) => {
  // axe is injected as a script, which the page's own CSP forbids: this context alone bypasses it.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  for (const path of ['/ui', '/ui/tenants', '/ui/tenants/acme', '/ui/log']) {
    await page.goto(`${served.url}${path}`);
    await page.addScriptTag({ path: AXE });
    const violations = (await page.evaluate(
      `axe.run().then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ' (' + v.impact + ', ' + v.nodes.length + ' nodes)'))`,
    )) as string[];
    t.deepEqual(violations, [], path);
  }
  await page.goto(`${served.url}/ui/tenants`);
  await page.keyboard.press('Tab');
  t.is(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
  await page.setViewportSize({ width: 375, height: 740 });
  for (const path of ['/ui', '/ui/tenants', '/ui/tenants/acme', '/ui/log']) {
    await page.goto(`${served.url}${path}`);
    t.true((await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')) as boolean, `${path} fits a phone-width screen`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${served.url}/ui/tenants/acme`);
  const pdf = await page.pdf({ format: 'A4' });
  t.true(pdf.length > 10_000, 'prints');
  await context.close();
});

test.serial('the overview lists the policy\'s problems as tai validate prints them: file, line, field', async (t) => {
  const broken = join(dir, 'policy', 'broken.yaml');
  await writeFile(broken, 'apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: broken\nspec:\n  sku: growth\n  suspended: maybe\n');
  t.teardown(() => rm(broken, { force: true }));
  let text = '';
  for (let i = 0; i < 60 && !/broken\.yaml:7/.test(text); i++) {
    await new Promise((r) => setTimeout(r, 250));
    text = await (await fetch(`${served.url}/ui`)).text();
  }
  t.regex(text, /<li><code>[^<]*broken\.yaml:7[^<]*spec\.suspended[^<]*<\/code><\/li>/);
});

test('with tokens checked, the dashboard wants a sign-in: a session cookie (HttpOnly, SameSite=Strict), no token in any URL', async (t) => {
  const tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, 'dashboard-token-1,alice,u-1,"ops"\n');
  const guarded = await startServe(['--from', join(dir, 'policy'), '--log', join(dir, 'log-guarded'), '--listen', '127.0.0.1:0', '--token-file', tokens]);
  t.teardown(() => stopServe(guarded));
  const first = await fetch(`${guarded.url}/ui`, { redirect: 'manual' });
  t.is(first.status, 303);
  t.is(first.headers.get('location'), '/ui/login');
  t.is((await fetch(`${guarded.url}/ui/events`)).status, 401);
  const login = (token: string): Promise<Response> =>
    fetch(`${guarded.url}/ui/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
  const refused = await login('not-a-token');
  t.is(refused.status, 401);
  t.regex(await refused.text(), /role="alert"[^>]*>That token was not accepted/);
  const accepted = await login('dashboard-token-1');
  t.is(accepted.status, 303);
  const cookie = accepted.headers.get('set-cookie') ?? '';
  t.regex(cookie, /^tai_ui=/);
  t.regex(cookie, /HttpOnly/);
  t.regex(cookie, /SameSite=Strict/);
  t.regex(cookie, /Path=\/ui/);
  t.false(cookie.includes('dashboard-token-1'), 'the token is not in the cookie');
  const session = cookie.split(';')[0]!;
  const overview = await fetch(`${guarded.url}/ui`, { headers: { cookie: session } });
  t.is(overview.status, 200);
  t.regex(await overview.text(), /<h1>Overview<\/h1>/);
  const forged = `${session.slice(0, -4)}AAAA`;
  t.is((await fetch(`${guarded.url}/ui`, { headers: { cookie: forged }, redirect: 'manual' })).status, 303, 'a tampered cookie is no session');
});

test.serial('the log page verifies a real receipt in the browser, and rejects the wrong key and a flipped byte', async (t) => {
  const key = /verifier key (\S+)/.exec(served.stdout.join('\n'))?.[1];
  t.truthy(key);
  const answer = await post(`${served.url}/v1/consume`, { tenant: 'hooli', metric: 'api-calls', amount: 3 });
  // The receipt is published with the next checkpoint (a second at most).
  await new Promise((r) => setTimeout(r, 1500));
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const verify = async (receipt: string, pinned: string): Promise<{ verdict: string | null; check: string | null; text: string }> => {
    await page.goto(`${served.url}/ui/log`);
    await page.fill('#verify-receipt', receipt);
    await page.fill('#verify-key', pinned);
    await page.click('#verify-form button[type="submit"]');
    const result = page.locator('#verify-result:is([data-verdict="verified"], [data-verdict="rejected"])');
    await result.waitFor({ timeout: 10_000 });
    return { verdict: await result.getAttribute('data-verdict'), check: await result.getAttribute('data-check'), text: await result.innerText() };
  };
  const ok = await verify(JSON.stringify(answer), key!);
  t.is(ok.verdict, 'verified', ok.text);
  // Another key of the same name: well formed, the note names it, but it did not sign the checkpoint.
  const other = join(dir, 'other.key');
  t.is((await runTai(['log', 'keygen', key!.split('+')[0]!, '--out', other])).code, 0);
  const wrongKey = (await readFile(`${other}.pub`, 'utf8')).trim();
  const refused = await verify(JSON.stringify(answer.receipt), wrongKey);
  t.is(refused.verdict, 'rejected');
  t.is(refused.check, 'signature', refused.text);
  // A server that alters the entry it serves: one byte flipped in every entry bundle.
  await page.route('**/log/tile/entries/**', async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[body.length - 3]! ^= 0x01;
    await route.fulfill({ response: res, body });
  });
  const tampered = await verify(JSON.stringify(answer.receipt), key!);
  t.is(tampered.verdict, 'rejected');
  t.is(tampered.check, 'leaf', tampered.text);
  t.deepEqual(problems, []);
  await page.unroute('**/log/tile/entries/**');
  if (process.env.TAI_UPDATE_SCREENSHOT === '1') await screenshots(page, () => verify(JSON.stringify(answer), key!));
  await context.close();
});

/** docs/dashboard-*.png, at 1280 px: each page as the README shows it (the log page with a verified receipt). */
async function screenshots(page: Page, verified: () => Promise<unknown>): Promise<void> {
  const docs = join(import.meta.dirname, '..', 'docs');
  // Some usage, so the meters show their colours: acme past its first alert on api-calls, near its builds limit.
  await post(`${served.url}/v1/consume`, { tenant: 'acme', metric: 'api-calls', amount: 1_500_000 });
  await post(`${served.url}/v1/consume`, { tenant: 'acme', metric: 'builds', amount: 1_900 });
  await post(`${served.url}/v1/consume`, { tenant: 'stark', metric: 'api-calls', amount: 42_000 });
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const [name, path] of [['overview', '/ui'], ['tenants', '/ui/tenants'], ['tenant', '/ui/tenants/acme']] as const) {
    await page.goto(`${served.url}${path}`);
    await page.screenshot({ path: join(docs, `dashboard-${name}.png`), fullPage: false });
  }
  await verified();
  await page.screenshot({ path: join(docs, 'dashboard-log.png'), fullPage: true });
}
