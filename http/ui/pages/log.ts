import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { DashboardSource } from '../dashboard-source.ts';
import { count, seconds } from '../format.ts';

/**
 * The log: its current checkpoint, and a receipt verified in this browser (verify-page.js), against a verifier key
 * the reader pins — the server's word is not taken for anything.
 */
export function logBody(source: DashboardSource, checkpoint: string | undefined): HtmlEscapedString | Promise<HtmlEscapedString> {
  const log = source.log();
  return html`<section aria-labelledby="cp-h"><h2 id="cp-h">Checkpoint</h2>
<p>${count(log.entries)} entries; the last checkpoint is ${seconds(log.checkpointAgeSeconds)} old.</p>
${checkpoint === undefined ? html`<p>No checkpoint has been published yet.</p>` : html`<pre class="note" data-live-field="checkpoint">${checkpoint}</pre>`}
</section>
<section aria-labelledby="verify-h"><h2 id="verify-h">Verify a receipt</h2>
<form id="verify-form" class="verify" data-log="/log/">
<p>Give an entry index, or paste the <code>receipt</code> of an answer (<code>{"index":…,"leafHash":"…"}</code>) or the whole answer, and the verifier key you trust (the operator publishes it; <code>tai serve</code> prints it at start). This page fetches the entry, the hash tiles its inclusion proof is built from and the checkpoint, and checks the leaf hash, the proof and the Ed25519 signature here, in your browser.</p>
<label for="verify-receipt">Entry index, receipt or answer</label> <textarea id="verify-receipt" name="receipt" rows="3" required></textarea>
<label for="verify-key">Verifier key</label> <input id="verify-key" name="key" autocomplete="off" spellcheck="false" required>
<button type="submit">Verify</button>
</form>
<div id="verify-result" role="status" aria-live="polite"></div>
</section>`;
}
