import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { AuthUnavailableError } from '../auth.ts';
import type { DashboardSource } from './dashboard-source.ts';
import { liveEvents } from './live-events.ts';
import { renderPage } from './page.ts';
import { loginBody } from './pages/login.ts';
import { logBody } from './pages/log.ts';
import { overviewBody } from './pages/overview.ts';
import { tenantBody } from './pages/tenant.ts';
import { tenantsBody } from './pages/tenants.ts';
import { securityHeaders } from './security-headers.ts';
import { endSession, requireSession, startSession, type UiAccess } from './session.ts';
import { uiStatic } from './static-routes.ts';

export interface UiOptions {
  source: DashboardSource;
  access: UiAccess;
  /** The log's current checkpoint note, if one is published. */
  checkpoint: () => Promise<string | undefined>;
}

/**
 * The dashboard (design §4, GET /ui): server-rendered pages from the same process — overview, tenants, one
 * tenant, the log with in-browser receipt verification — with live figures over Server-Sent Events. Mounted at /ui.
 */
export function uiApi(o: UiOptions): Hono {
  const app = new Hono();
  app.use('*', securityHeaders());
  app.use('*', requireSession(o.access));
  app.route('/static', uiStatic());
  app.get('/', (c) => renderPage(c, { title: 'Overview', nav: 'overview', body: overviewBody(o.source), scripts: ['live.js'], live: '/ui/events' }));
  app.get('/tenants', async (c) => {
    const page = Number.parseInt(c.req.query('page') ?? '1', 10);
    return renderPage(c, { title: 'Tenants', nav: 'tenants', body: await tenantsBody(o.source, { search: c.req.query('q') ?? '', page: Number.isFinite(page) ? page : 1 }) });
  });
  app.get('/tenants/:name', async (c) => {
    const name = c.req.param('name');
    const tenant = o.source.tenant(name);
    if (tenant === undefined) return renderPage(c, { title: `No tenant ${name}`, nav: 'tenants', body: html`<p>No tenant named ${name} is served. <a href="/ui/tenants">All tenants</a></p>` }, 404);
    return renderPage(c, { title: `Tenant ${name}`, nav: 'tenants', body: await tenantBody(o.source, tenant), scripts: ['live.js'], live: `/ui/events?${new URLSearchParams({ tenant: name }).toString()}` });
  });
  app.get('/log', async (c) => renderPage(c, { title: 'Log', nav: 'log', body: logBody(o.source, await o.checkpoint()), scripts: ['verify-page.js'] }));
  app.get('/events', (c) => liveEvents(c, o.source));
  app.get('/login', (c) => (o.access.verifier === undefined ? c.redirect('/ui', 303) : renderPage(c, { title: 'Sign in', nav: 'overview', body: loginBody() })));
  app.post('/login', (c) => signIn(c, o.access));
  app.post('/logout', (c) => {
    endSession(c, o.access);
    return c.redirect(o.access.verifier === undefined ? '/ui' : '/ui/login', 303);
  });
  return app;
}

async function signIn(c: Context, access: UiAccess): Promise<Response> {
  if (access.verifier === undefined) return c.redirect('/ui', 303);
  const form = await c.req.parseBody();
  const token = typeof form.token === 'string' ? form.token.trim() : '';
  try {
    const principal = token === '' ? undefined : await access.verifier.verify(token);
    if (principal === undefined) return renderPage(c, { title: 'Sign in', nav: 'overview', body: loginBody('That token was not accepted.') }, 401);
    await startSession(c, access, principal.name);
    return c.redirect('/ui', 303);
  } catch (e) {
    if (!(e instanceof AuthUnavailableError)) throw e;
    return renderPage(c, { title: 'Sign in', nav: 'overview', body: loginBody('Tokens cannot be checked right now; try again in a moment.') }, 503);
  }
}
