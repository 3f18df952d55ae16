// The audit report of a 100 000-entry log, rendered by a real browser: headless Chromium (Debian's package,
// installed by hack/chromium.sh) through playwright-core. The counts the page shows, read from the DOM, must be
// what `tai log query` prints for the same filters; the page must print to a multi-page PDF. With
// TAI_UPDATE_SCREENSHOT=1 the screenshot replaces docs/audit-report.png (the one docs/audit.md shows).
import test from 'ava';
import { access, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fixtureLog, mixedFixtureEntry, runTai } from './support/log-fixture.ts';
import { queryCount } from './support/audit.ts';

const SIZE = 100_000;
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(2)} s`;
const number = (text: string): number => Number(text.replace(/[^\d]/g, ''));

/** A fresh browser; launch() gives it a new temporary profile and removes it on close. */
async function browser(): Promise<Browser> {
  try {
    await access(CHROMIUM);
  } catch {
    throw new Error(`${CHROMIUM} is missing: run bash hack/chromium.sh (hack/test.sh does) to install Debian's chromium package`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** The page's counts: the summary cards, and the decisions by tenant and by reason. */
async function renderedCounts(page: Page): Promise<{ cards: Record<string, number>; tenants: Record<string, number[]>; reasons: Record<string, number> }> {
  const cards: Record<string, number> = {};
  for (const name of ['entries', 'decisions', 'decisions-denied', 'admissions', 'thresholds', 'policy-changes', 'proofs']) {
    cards[name] = number(await page.locator(`.cards [data-count="${name}"]`).innerText());
  }
  const tenants: Record<string, number[]> = {};
  for (const row of await page.locator('#decisions table[data-by="tenant"] tr[data-tenant]').all()) {
    const cells = await Promise.all(['total', 'allowed', 'denied'].map(async (c) => number(await row.locator(`[data-count="${c}"]`).innerText())));
    tenants[(await row.getAttribute('data-tenant'))!] = cells;
  }
  const reasons: Record<string, number> = {};
  for (const row of await page.locator('#decisions table[data-by="reason"] tr[data-reason]').all()) {
    reasons[(await row.getAttribute('data-reason'))!] = number(await row.locator('[data-count="total"]').innerText());
  }
  return { cards, tenants, reasons };
}

/** The same counts from `tai log query`, one run per filter. */
async function queriedCounts(logDir: string, rendered: { tenants: Record<string, number[]>; reasons: Record<string, number> }): Promise<unknown> {
  const q = (...flags: string[]): Promise<number> => queryCount(logDir, flags);
  const cards = {
    entries: await q(),
    decisions: await q('--kind', 'decision'),
    'decisions-denied': await q('--kind', 'decision', '--outcome', 'denied'),
    admissions: await q('--kind', 'admission'),
    thresholds: await q('--kind', 'threshold'),
    'policy-changes': await q('--kind', 'reconcile'),
    proofs: 5,
  };
  const tenants: Record<string, number[]> = {};
  for (const tenant of Object.keys(rendered.tenants)) {
    const base = ['--kind', 'decision', '--tenant', tenant];
    tenants[tenant] = [await q(...base), await q(...base, '--outcome', 'allowed'), await q(...base, '--outcome', 'denied')];
  }
  const reasons: Record<string, number> = {};
  for (const reason of Object.keys(rendered.reasons)) reasons[reason] = await q('--kind', 'decision', '--reason', reason);
  return { cards, tenants, reasons };
}

test('a 100 000-entry report renders in Chromium with the counts tai log query gives, and prints to PDF', async (t) => {
  t.timeout(5 * 60_000);
  let started = performance.now();
  const log = await fixtureLog();
  await log.grow(SIZE, mixedFixtureEntry).publish();
  t.log(`log of ${SIZE} entries built and published in ${seconds(started)}`);

  const dir = await mkdtemp(join(tmpdir(), 'tai-audit-chromium-'));
  const out = join(dir, 'audit-report.html');
  started = performance.now();
  const r = await runTai(['audit', 'report', '--from', log.logDir, '--out', out]);
  t.is(r.code, 0, r.err.join('\n'));
  t.log(`report verified and written in ${seconds(started)}: ${r.out[0]}`);

  const b = await browser();
  try {
    const page = await b.newPage({ viewport: { width: 1200, height: 1500 } });
    started = performance.now();
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
    t.log(`rendered in ${seconds(started)}`);
    const rendered = await renderedCounts(page);
    t.is(rendered.cards.entries, SIZE);
    t.deepEqual(Object.keys(rendered.tenants).length, 4);
    t.deepEqual(rendered, await queriedCounts(log.logDir, rendered));
    t.is(await page.locator('#proofs .proof .ok').count(), 5, 'five proofs shown as verified');
    t.is(await page.locator('script').count(), 0);

    started = performance.now();
    const pdf = Buffer.from(await page.pdf({ format: 'A4', printBackground: true }));
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page\b/g)?.length ?? 0;
    t.log(`PDF of ${pages} pages, ${Math.round(pdf.length / 1024)} KiB, in ${seconds(started)}`);
    t.is(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    t.true(pages >= 3, `several pages, got ${pages}`);

    const shot = process.env.TAI_UPDATE_SCREENSHOT === '1' ? join(import.meta.dirname, '..', 'docs', 'audit-report.png') : join(dir, 'audit-report.png');
    const png = await page.screenshot({ path: shot });
    t.is(png.subarray(1, 4).toString('latin1'), 'PNG');
    t.log(`screenshot: ${shot}`);
    await writeFile(join(dir, 'audit-report.pdf'), pdf);
  } finally {
    await b.close();
  }
});
