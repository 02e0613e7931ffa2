// The app's one door to the API: the public routes only, with the signed-in user's access token.
// Tokens live in sessionStorage (this tab, until it closes), never in a URL; live streams open with a
// single-use ticket (POST /v1/live/tickets), since EventSource cannot send the Authorization header.

export interface Session {
  access_token: string;
  refresh_token: string;
  user_id: string;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

const KEY = 'fitstream.session';
let session: Session | null = (() => {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
  } catch {
    return null;
  }
})();
const listeners = new Set<() => void>();

export const currentSession = () => session;
export function onSessionChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
function setSession(s: Session | null) {
  session = s;
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  for (const f of listeners) f();
}

/** The subject of a JWT (who the token is for); the signature is the API's to check, not ours. */
function subjectOf(jwt: string): string {
  const payload = jwt.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return (JSON.parse(json) as { sub: string }).sub;
}

async function problemOf(res: Response): Promise<ApiProblem> {
  let code = 'http_error';
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { code?: string; detail?: string; title?: string };
    code = body.code ?? code;
    detail = body.detail ?? body.title ?? detail;
  } catch {
    // not problem+json
  }
  return new ApiProblem(res.status, code, detail);
}

async function tokens(path: string, body: unknown): Promise<void> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await problemOf(res);
  const t = (await res.json()) as { access_token: string; refresh_token: string };
  setSession({ ...t, user_id: subjectOf(t.access_token) });
}

export const signIn = (email: string, password: string) => tokens('/v1/auth/login', { email, password });

export async function register(body: { email: string; password: string; name: string; timezone: string }) {
  const res = await fetch('/v1/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await problemOf(res);
  await signIn(body.email, body.password);
}

export async function signOut(): Promise<void> {
  if (session) await api('/v1/auth/logout', { method: 'POST' }).catch(() => {});
  setSession(null);
}

let refreshing: Promise<void> | null = null;
async function refresh(): Promise<void> {
  const s = session;
  if (!s) throw new ApiProblem(401, 'token_missing', 'signed out');
  // one refresh at a time: a refresh token works once
  refreshing ??= tokens('/v1/auth/refresh', { refresh_token: s.refresh_token })
    .catch((err) => {
      setSession(null);
      throw err;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

export interface CallOptions {
  method?: string;
  /** sent as JSON */
  body?: unknown;
  /** sent as they are (a file), with the content type in `headers` */
  bytes?: Blob;
  headers?: Record<string, string>;
}

/** A call with the access token; an expired token is refreshed once and the call repeated. */
export async function api<T = unknown>(path: string, opts: CallOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (!session) throw new ApiProblem(401, 'token_missing', 'signed out');
    const headers: Record<string, string> = {
      ...opts.headers,
      authorization: `Bearer ${session.access_token}`,
    };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.bytes ?? (opts.body === undefined ? null : JSON.stringify(opts.body)),
    });
    if (res.status === 401 && attempt === 0) {
      await refresh();
      continue;
    }
    if (!res.ok) throw await problemOf(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}

/** The URL of a live stream, opened with a fresh single-use ticket. */
export async function streamUrl(path: string): Promise<string> {
  const { ticket } = await api<{ ticket: string }>('/v1/live/tickets', { method: 'POST' });
  return `${path}?ticket=${encodeURIComponent(ticket)}`;
}
