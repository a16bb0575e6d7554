/**
 * Headless sign-in to a Label Studio (1.23.2) through its web forms, to get what its REST API
 * needs: Label Studio makes API tokens for a signed-in user only, and in 1.23 legacy tokens are
 * disabled for new organizations. So a user signs up (or logs in) with the form, the same way a
 * browser does (CSRF cookie and token, then the session cookie), and creates a personal access
 * token with `POST /api/token/`; Retrain's client exchanges it for access tokens. For the local
 * Label Studio of the tests and of a developer; a team's own Label Studio hands out tokens in
 * Account & Settings.
 */
import { z } from 'zod';

/** A signed-in browser session: its cookies and CSRF token. */
interface Session {
  cookies: Map<string, string>;
}

function cookieHeader(session: Session): string {
  return [...session.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

function keepCookies(session: Session, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    if (eq > 0) session.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
  }
}

async function submitForm(url: string, path: '/user/login/' | '/user/signup/', fields: Record<string, string>): Promise<Session> {
  const session: Session = { cookies: new Map() };
  const page = await fetch(`${url}${path}`, { redirect: 'manual' });
  keepCookies(session, page);
  await page.text();
  const csrf = session.cookies.get('csrftoken');
  if (!csrf) throw new Error(`Label Studio at ${url} set no CSRF cookie on ${path}: is it Label Studio?`);
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(session), referer: `${url}${path}` },
    body: new URLSearchParams({ csrfmiddlewaretoken: csrf, ...fields }).toString(),
  });
  keepCookies(session, response);
  const body = await response.text();
  // A successful form redirects (302) with a session; a refused one answers the form again (200) with its errors.
  if (response.status !== 302 || !session.cookies.has('sessionid')) {
    const error = /class="[^"]*error[^"]*"[^>]*>([^<]+)</i.exec(body)?.[1]?.trim();
    throw new Error(`Label Studio at ${url} refused ${path} for ${fields.email} (${response.status}${error ? `: ${error}` : ''})`);
  }
  return session;
}

/** Creates a personal access token for the signed-in user (Label Studio allows one valid token per user). */
async function createToken(url: string, session: Session): Promise<string> {
  const response = await fetch(`${url}/api/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookieHeader(session), 'x-csrftoken': session.cookies.get('csrftoken') ?? '', referer: `${url}/` },
    body: '{}',
  });
  const text = await response.text();
  if (response.status === 409) throw new Error(`this Label Studio user already has a personal access token (${url}/api/token/ answered 409): reuse it, or revoke it in Account & Settings`);
  if (!response.ok) throw new Error(`Label Studio at ${url} did not create a personal access token (${response.status}): ${text.slice(0, 300)}`);
  return z.object({ token: z.string().min(1) }).parse(JSON.parse(text)).token;
}

/** Logs in an existing user and creates their personal access token. */
export async function personalAccessToken(url: string, user: { email: string; password: string }): Promise<string> {
  return createToken(url, await submitForm(url, '/user/login/', { email: user.email, password: user.password }));
}

/** Signs a new user up (they join the instance's organization) and creates their personal access token. */
export async function signUpWithToken(url: string, user: { email: string; password: string }): Promise<string> {
  return createToken(url, await submitForm(url, '/user/signup/', { email: user.email, password: user.password }));
}
