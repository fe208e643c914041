// The API client: bearer token, JSON errors, and conditional GETs (ETag / If-None-Match → 304)
// so that polling every 2 s costs the server a hash and the browser nothing when nothing changed.

export const TOKEN_KEY = 'switchboard.token';

export interface Store {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Where the session's token lives (sessionStorage in the browser: one tab, gone on close). */
export class TokenStore {
  constructor(private store: Store) {}
  get(): string | null {
    try {
      return this.store.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  }
  set(token: string) {
    this.store.setItem(TOKEN_KEY, token);
  }
  clear() {
    this.store.removeItem(TOKEN_KEY);
  }
}

/** An API error: the HTTP status and the server's `{"error": {"code", "message"}}`. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public body: any = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface GetResult<T> {
  data: T;
  /** False when the server answered 304: `data` is the cached copy (same object as before). */
  changed: boolean;
}

export interface ClientOptions {
  base?: string;
  tokens: TokenStore;
  /** Called after a 401: the token was cleared; the app shows the login page. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

export class ApiClient {
  private cache = new Map<string, { etag: string; data: unknown }>();
  /** Server time minus client time, in seconds, from the `Date` header of the last response. */
  skew = 0;
  base: string;
  private fetchImpl: typeof fetch;

  constructor(private opts: ClientOptions) {
    this.base = (opts.base ?? '').replace(/\/$/, '');
    this.fetchImpl = opts.fetch ?? ((...a) => fetch(...a));
  }

  /** The server's current unix time (seconds), from the client clock corrected by `skew`. */
  serverNow(): number {
    return Date.now() / 1000 + this.skew;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { Accept: 'application/json', ...extra };
    const token = this.opts.tokens.get();
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
  }

  private noteDate(res: Response) {
    const d = res.headers.get('date');
    if (!d) return;
    const t = Date.parse(d);
    if (!Number.isNaN(t)) {
      const skew = (t - Date.now()) / 1000;
      // The header has a one-second resolution: ignore sub-second noise.
      if (Math.abs(skew - this.skew) > 1.5) this.skew = Math.round(skew);
    }
  }

  private async fail(res: Response): Promise<never> {
    let body: any = null;
    try {
      body = await res.json();
    } catch {
      /* not JSON */
    }
    if (res.status === 401) {
      this.opts.tokens.clear();
      this.cache.clear();
      this.opts.onUnauthorized?.();
    }
    const code = body?.error?.code ?? `http_${res.status}`;
    const message = body?.error?.message ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, code, message, body);
  }

  /** A GET that revalidates with the last ETag seen for this exact path. */
  async get<T = any>(path: string): Promise<GetResult<T>> {
    const cached = this.cache.get(path);
    const extra: Record<string, string> = {};
    if (cached) extra['If-None-Match'] = cached.etag;
    const res = await this.fetchImpl(this.base + path, { headers: this.headers(extra) });
    this.noteDate(res);
    if (res.status === 304 && cached) return { data: cached.data as T, changed: false };
    if (!res.ok) return this.fail(res);
    const data = (await res.json()) as T;
    const etag = res.headers.get('etag');
    if (etag) this.cache.set(path, { etag, data });
    else this.cache.delete(path);
    return { data, changed: true };
  }

  /** GET without caring whether it changed. */
  async read<T = any>(path: string): Promise<T> {
    return (await this.get<T>(path)).data;
  }

  async send<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: this.headers() };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    const res = await this.fetchImpl(this.base + path, init);
    this.noteDate(res);
    if (!res.ok) return this.fail(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }

  post<T = any>(path: string, body?: unknown): Promise<T> {
    return this.send<T>('POST', path, body ?? {});
  }

  /** Forget cached ETags (after a write whose effect the next poll must show at once). */
  invalidate(prefix = '') {
    for (const k of [...this.cache.keys()]) if (k.startsWith(prefix)) this.cache.delete(k);
  }
}

export interface RuntimeConfig {
  auth: 'dev' | 'cognito' | string;
  apiBase: string;
  cognito?: { domain: string; clientId: string; redirectUri: string };
}

export interface Session {
  user: string;
  tenant: string;
  roles: string[];
  demo: boolean;
  auth: string;
}

/**
 * Takes a token out of the URL fragment (`#token=…` from `switchboard serve`'s login link, or
 * `#id_token=…` from Cognito's hosted UI), stores it and returns the fragment-free URL to
 * replace the current one with (or null when the fragment held no token).
 */
export function takeTokenFromHash(hash: string, tokens: TokenStore): boolean {
  const h = hash.replace(/^#/, '');
  if (!h) return false;
  const params = new URLSearchParams(h);
  const token = params.get('token') ?? params.get('id_token');
  if (!token) return false;
  tokens.set(token);
  return true;
}

/** Cognito hosted UI's implicit-grant login URL. */
export function cognitoLoginUrl(c: NonNullable<RuntimeConfig['cognito']>): string {
  const q = new URLSearchParams({
    response_type: 'token',
    client_id: c.clientId,
    redirect_uri: c.redirectUri,
  });
  return `${c.domain.replace(/\/$/, '')}/oauth2/authorize?${q.toString()}&scope=openid+email`;
}

/** The claims of a JWT (unverified: for display only, the server verifies). */
export function jwtClaims(token: string | null): Record<string, any> | null {
  if (!token) return null;
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
  } catch {
    return null;
  }
}

export function hasRole(session: Session | null, ...roles: string[]): boolean {
  return !!session && roles.some((r) => session.roles.includes(r));
}

/** A fresh idempotency key for a send (one per click; a retried request reuses it). */
export function idempotencyKey(prefix = 'console'): string {
  const rnd =
    typeof crypto !== 'undefined' && 'randomUUID' in crypto
      ? crypto.randomUUID()
      : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}:${rnd}`;
}
