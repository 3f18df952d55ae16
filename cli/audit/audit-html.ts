// The audit report as one self-contained HTML page: inline CSS, no scripts, no external assets, laid out to
// print to PDF. Pure; every string from the log or the command line is escaped by html``.
import { AUDIT_REPORT_CSS } from './audit-html-style.ts';
import { deploymentSection, usageSection } from './audit-html-deployment.ts';
import { formatCount, lifecycleSection, outcomeSection, policySection, proofSection, thresholdSection } from './audit-html-sections.ts';
import type { AnchorRecord, AuditReport } from './audit-model.ts';
import { shellQuote } from './audit-scope.ts';
import { html, trusted, type Html } from './html.ts';

function scopeText(r: AuditReport): string {
  const { tenant, since, until } = r.scope;
  const time = since === undefined && until === undefined ? 'all time' : `${since ?? 'the start'} ≤ time < ${until ?? 'the end'}`;
  return `${tenant === undefined ? 'all tenants' : `tenant ${tenant}`}, ${time}`;
}

function card(c: { name: string; n: number; label: string }): Html {
  return html`<div class="card"><span class="n" data-count="${c.name}">${formatCount(c.n)}</span><span class="l">${c.label}</span></div>`;
}

function summary(r: AuditReport): Html {
  const c = r.coverage;
  return html`<div class="verdict"><strong>✓ Verified.</strong> All ${formatCount(c.size)} entries of the log were read and checked against the checkpoint signed by <code>${c.signedBy}</code>: encoding, index and chain link of every entry, every hash tile, and the Merkle root.</div>
<div class="cards">${[
    card({ name: 'entries', n: c.size, label: 'entries verified' }),
    card({ name: 'in-range', n: c.range.entries, label: 'entries in the time range' }),
    card({ name: 'decisions', n: r.decisions.total, label: 'decisions in scope' }),
    card({ name: 'decisions-denied', n: r.decisions.denied, label: 'decisions denied' }),
    card({ name: 'admissions', n: r.admissions.total, label: 'admission reviews' }),
    card({ name: 'thresholds', n: r.thresholds.total, label: 'threshold crossings' }),
    card({ name: 'policy-changes', n: r.policyChanges.total, label: 'policy changes' }),
    card({ name: 'proofs', n: r.samples.length, label: 'inclusion proofs checked' }),
  ]}</div>`;
}

function yes(ok: boolean, good: string, bad: string): Html {
  return ok ? html`<span class="ok">✓ ${good}</span>` : html`<span class="bad">✗ ${bad}</span>`;
}

function gapless(size: number): string {
  return size === 0 ? 'none: the log is empty' : `none: entries 0 – ${size - 1} read once each, in order, each linked to the one before`;
}

function coverage(r: AuditReport): Html {
  const c = r.coverage;
  const range = c.range.first === null ? html`<span class="none">no entries in the time range</span>` : html`entries ${c.range.first} – ${c.range.last} (${formatCount(c.range.entries)} entries, ${c.range.firstTime} to ${c.range.lastTime})`;
  return html`<section id="coverage"><h2>Coverage and integrity</h2>
<table class="kv"><tbody>
<tr><th>Log origin</th><td>${c.origin}</td></tr>
<tr><th>Checkpoint size</th><td data-count="checkpoint-size">${formatCount(c.size)} entries</td></tr>
<tr><th>Merkle root</th><td class="hash">${c.root}</td></tr>
<tr><th>Signed by</th><td><code>${c.signedBy}</code></td></tr>
<tr><th>Root</th><td>${yes(c.rootVerified, 'recomputed from every entry: equals the signed root', 'does not match')}</td></tr>
<tr><th>Gaps</th><td>${yes(c.contiguous, gapless(c.size), 'entries missing or out of order')}</td></tr>
<tr><th>Time range</th><td>${range}</td></tr>
</tbody></table></section>`;
}

function anchorRow(a: AnchorRecord): Html {
  return html`<tr>${a.origin === undefined ? '' : html`<td>${a.origin}</td>`}<td class="num">${formatCount(a.size)}</td><td class="hash">${a.root}</td><td>${a.storedAt ?? '—'}</td><td class="num">${a.lagSeconds === undefined ? '—' : `${a.lagSeconds} s`}</td></tr>`;
}

function anchors(r: AuditReport): Html {
  const body =
    r.anchors.length === 0
      ? html`<p class="none">No bucket was given: report with --from gs://… or --anchored-against gs://… to check and list the anchors.</p>`
      : html`<table><thead><tr>${r.deployment ? html`<th>Origin</th>` : ''}<th class="num">Size</th><th>Root</th><th>Stored at</th><th class="num">Lag</th></tr></thead><tbody>${r.anchors.map(anchorRow)}</tbody></table>`;
  return html`<section id="anchors"><h2>Anchors</h2><p class="lead">Checkpoints stored as immutable objects outside the governor: a later rewrite of the log cannot match them.</p>${body}</section>`;
}

/** The whole page. */
export function renderAuditHtml(r: AuditReport): string {
  const loc = shellQuote(r.scope.location);
  const vkey = r.scope.vkey === undefined ? '' : ` --vkey ${shellQuote(r.scope.vkey)}`;
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>TAI audit report — ${r.coverage.origin}</title>
<style>${trusted(AUDIT_REPORT_CSS)}</style></head>
<body>
<header><h1>TAI audit report</h1>
<p class="muted">${r.scope.locations ? html`Logs <code>${r.scope.locations.join(' ')}</code>` : html`Log <code>${r.scope.location}</code>`} · origin ${r.coverage.origin} · scope: ${scopeText(r)} · generated ${r.generatedAt}</p></header>
${summary(r)}
${r.deployment ? deploymentSection(r.deployment) : coverage(r)}
${anchors(r)}
${outcomeSection({ id: 'decisions', title: 'Decisions', what: 'decisions', data: r.decisions })}
${r.deployment ? usageSection(r.deployment) : ''}
${outcomeSection({ id: 'admissions', title: 'Admission reviews', what: 'admission reviews', data: r.admissions })}
${thresholdSection(r.thresholds)}
${policySection(r.policyChanges)}
${lifecycleSection(r.lifecycle)}
${proofSection(r.samples, loc)}
<footer>Made by <code>tai audit report</code> (${r.format}). Check the log yourself: <code>tai log verify ${loc}${vkey}</code>. Every count above is the number of lines <code>tai log query</code> prints for the same filters.</footer>
</body></html>
`;
  return page.text;
}
