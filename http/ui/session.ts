import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { TokenVerifier } from '../auth.ts';

/** Who may see the dashboard, and how a browser proves it. */
export interface UiAccess {
  /**
   * Checks a token given at sign-in: the decision API's own verifier (token file or TokenReview). Absent: the
   * server checks no tokens, which `tai serve` allows on loopback only, and the dashboard is open.
   */
  verifier?: TokenVerifier | undefined;
  /** HMAC key of the session cookie; replicas given the same key accept each other's sessions. */
  sessionKey: Uint8Array;
  /** Mark the cookie Secure (the server speaks HTTPS). */
  secure: boolean;
  now: () => number;
}

export const SESSION_COOKIE = 'tai_ui';
/** How long a sign-in lasts. */
export const SESSION_MS = 8 * 60 * 60 * 1000;

interface Session {
  /** The principal's name. */
  n: string;
  /** Expiry, ms since the epoch. */
  e: number;
}

/**
 * Requires a session cookie on every dashboard page when tokens are checked: a browser without one is sent to
 * /ui/login (a page) or answered 401 (anything else). The cookie is HttpOnly, SameSite=Strict, scoped to /ui, and
 * signed (HMAC-SHA256), holding only the principal's name and an expiry: no token is stored or put in a URL.
 */
export function requireSession(access: UiAccess): MiddlewareHandler {
  return async (c, next) => {
    if (access.verifier === undefined || isPublic(c.req.path)) return next();
    const session = await readSession(c, access);
    if (session !== undefined) return next();
    if (c.req.method === 'GET' && !c.req.path.startsWith('/ui/events')) return c.redirect('/ui/login', 303);
    return c.text('sign in at /ui/login', 401);
  };
}

/** The signed-in principal's name, if the request carries a valid, unexpired session. */
export async function readSession(c: Context, access: UiAccess): Promise<string | undefined> {
  const value = await getSignedCookie(c, access.sessionKey, SESSION_COOKIE);
  if (!value) return undefined;
  try {
    const s = JSON.parse(value) as Session;
    return typeof s.n === 'string' && typeof s.e === 'number' && s.e > access.now() ? s.n : undefined;
  } catch {
    return undefined;
  }
}

export async function startSession(c: Context, access: UiAccess, principal: string): Promise<void> {
  const session: Session = { n: principal, e: access.now() + SESSION_MS };
  await setSignedCookie(c, SESSION_COOKIE, JSON.stringify(session), access.sessionKey, {
    path: '/ui',
    httpOnly: true,
    sameSite: 'Strict',
    secure: access.secure,
    maxAge: SESSION_MS / 1000,
  });
}

export function endSession(c: Context, access: UiAccess): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/ui', secure: access.secure });
}

function isPublic(path: string): boolean {
  return path === '/ui/login' || path.startsWith('/ui/static/');
}
