import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/**
 * Sign-in: the token is posted in a form body (never in a URL), checked by the decision API's verifier, and
 * exchanged for a session cookie.
 */
export function loginBody(error?: string): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`${error ? html`<p role="alert" class="error">${error}</p>` : ''}
<form method="post" action="/ui/login" class="login">
<p>Sign in with a token the decision API accepts: one from the server's token file, or a Kubernetes service account token (<code>kubectl create token …</code>).</p>
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`;
}
