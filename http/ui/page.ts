import type { Context } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** What a page renders into the shell. */
export interface PageContent {
  title: string;
  /** Which entry of the navigation is current. */
  nav: 'overview' | 'tenants' | 'log';
  body: HtmlEscapedString | Promise<HtmlEscapedString>;
  /** Scripts (under /ui/static/) the page loads as modules; never inline (the CSP forbids it). */
  scripts?: readonly string[];
  /** Where the page's live updates come from (data-live on <main>, read by live.js). */
  live?: string;
}

const NAV = [
  ['overview', '/ui', 'Overview'],
  ['tenants', '/ui/tenants', 'Tenants'],
  ['log', '/ui/log', 'Log'],
] as const;

/**
 * The dashboard's HTML shell: a skip link, the navigation (aria-current on the current page), one <main>, the
 * stylesheet (print styles included) and the page's module scripts. Every value is escaped by `html`.
 */
export function renderPage(c: Context, p: PageContent, status: 200 | 401 | 404 | 503 = 200): Response | Promise<Response> {
  const scripts = p.scripts ?? [];
  return c.html(
    html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · TAI</title>
<link rel="stylesheet" href="/ui/static/ui.css">
<link rel="icon" href="data:,">
${scripts.map((s) => html`<script type="module" src="/ui/static/${s}"></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">TAI</span>
<nav aria-label="Dashboard"><ul>${NAV.map(([id, href, label]) => html`<li><a href="${href}"${id === p.nav ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>
<form method="post" action="/ui/logout" class="logout"><button type="submit">Sign out</button></form>
</header>
<main id="main"${p.live ? html` data-live="${p.live}"` : ''}>
<h1>${p.title}</h1>
${p.body}
</main>
</body>
</html>`,
    status,
  );
}
