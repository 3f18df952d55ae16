// @ts-check
// The "verify a receipt" form of the dashboard's Log page, bound to verify.js. Load it as a module from the page
// (CSP script-src 'self', no inline script): <script type="module" src="/ui/static/verify-page.js"></script>.
//
// Contract with the page (the HTML is the page's; these ids are all this script needs):
//   form#verify-form         the form; submitting it verifies. Optional data-log="/log/": where the log is served.
//   #verify-receipt          <input> or <textarea>: an entry index ("42"), a receipt {"index": 42, "leafHash": "…",
//                            "origin"?: "…"} or a whole decision answer holding one under "receipt".
//   input#verify-key         the verifier key the user pins (name+hex8+base64); remembered in localStorage.
//   #verify-result           the verdict: this script sets role="status" and aria-live="polite" on it and
//                            writes only text into it; its data-verdict becomes "checking", "verified" or
//                            "rejected", and data-check the check that failed (input, fetch, signature, leaf, proof).
// Every failure is shown in #verify-result; nothing is thrown to the console.
import { httpLogReader, parseReceipt, verifyReceipt, VerifyError } from './verify.js';

const PINNED_KEY = 'tai.verifierKey';
/** Submissions so far: only the latest may write its verdict, so a slow earlier one cannot overwrite it. */
let submissions = 0;

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`verify-page.js: the page has no #${id}`);
  return el;
}

/**
 * Replaces the result's content with a heading line and detail lines, as text.
 * @param {HTMLElement} out
 * @param {{ verdict: string, title: string, lines: readonly string[], check?: string }} r
 */
function show(out, r) {
  out.dataset['verdict'] = r.verdict;
  if (r.check === undefined) delete out.dataset['check'];
  else out.dataset['check'] = r.check;
  const title = document.createElement('p');
  title.textContent = r.title;
  const list = document.createElement('ul');
  for (const line of r.lines) {
    const li = document.createElement('li');
    li.textContent = line;
    list.append(li);
  }
  out.replaceChildren(title, ...(r.lines.length > 0 ? [list] : []));
}

/** @param {import('./verify.js').Verified} v */
function verified(v) {
  return {
    verdict: 'verified',
    title: `Verified: entry ${v.index} is in the log ${v.origin} of ${v.size} entries.`,
    lines: [
      `signature: the checkpoint is signed by the pinned key ${v.key} (Ed25519)`,
      `leaf: SHA-256(0x00 ‖ entry) = ${v.leafHash} over the ${v.entry.length}-byte entry`,
      `proof: ${v.proof.length} audit-path hashes lead to the signed root ${v.root}`,
    ],
  };
}

/** @param {unknown} e */
function rejected(e) {
  const check = e instanceof VerifyError ? e.check : 'input';
  const message = e instanceof Error ? e.message : String(e);
  return { verdict: 'rejected', title: `Rejected (${check}): do not trust this receipt.`, lines: [message], check };
}

/**
 * @param {HTMLFormElement} form
 * @param {HTMLInputElement} key
 * @param {HTMLElement} out
 */
async function run(form, key, out) {
  const input = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (byId('verify-receipt'));
  const mine = ++submissions;
  show(out, { verdict: 'checking', title: 'Checking…', lines: [] });
  let verdict;
  try {
    const receipt = parseReceipt(input.value);
    const v = await verifyReceipt({ receipt, verifierKey: key.value, read: httpLogReader(form.dataset['log'] ?? '/log/') });
    remember(key.value.trim());
    verdict = verified(v);
  } catch (e) {
    verdict = rejected(e);
  }
  if (mine === submissions) show(out, verdict);
}

/** @param {string} value */
function remember(value) {
  try {
    localStorage.setItem(PINNED_KEY, value);
  } catch {
    // storage may be disabled; the key is then pinned for this page only
  }
}

function recalled() {
  try {
    return localStorage.getItem(PINNED_KEY) ?? '';
  } catch {
    return '';
  }
}

function bind() {
  const form = /** @type {HTMLFormElement} */ (byId('verify-form'));
  const key = /** @type {HTMLInputElement} */ (byId('verify-key'));
  const out = byId('verify-result');
  out.setAttribute('role', 'status');
  out.setAttribute('aria-live', 'polite');
  if (key.value === '') key.value = recalled();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(form, key, out);
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', bind);
else bind();
