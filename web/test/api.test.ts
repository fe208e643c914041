import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, TokenStore, cognitoLoginUrl, jwtClaims, takeTokenFromHash } from '../src/api';

function memStore() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(status === 304 ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('ApiClient conditional GETs', () => {
  it('sends If-None-Match with the last ETag and returns the cached data on 304', async () => {
    const tokens = new TokenStore(memStore());
    tokens.set('tok');
    const calls: Headers[] = [];
    const answers = [
      json(200, { items: [1] }, { etag: '"v1"' }),
      json(304, null, { etag: '"v1"' }),
      json(200, { items: [1, 2] }, { etag: '"v2"' }),
    ];
    const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
      calls.push(new Headers(init.headers));
      return answers.shift()!;
    });
    const api = new ApiClient({ tokens, fetch: fetchMock as any });
    const a = await api.get('/api/conversations');
    expect(a).toEqual({ data: { items: [1] }, changed: true });
    expect(calls[0].get('if-none-match')).toBeNull();
    expect(calls[0].get('authorization')).toBe('Bearer tok');
    const b = await api.get('/api/conversations');
    expect(calls[1].get('if-none-match')).toBe('"v1"');
    expect(b.changed).toBe(false);
    expect(b.data).toBe(a.data); // the same object: React sees no change
    const c = await api.get('/api/conversations');
    expect(calls[2].get('if-none-match')).toBe('"v1"');
    expect(c).toEqual({ data: { items: [1, 2] }, changed: true });
  });

  it('keeps one ETag per path and forgets them on invalidate', async () => {
    const tokens = new TokenStore(memStore());
    const seen: (string | null)[] = [];
    const fetchMock = vi.fn(async (url: string, init: RequestInit) => {
      seen.push(new Headers(init.headers).get('if-none-match'));
      return json(200, { url }, { etag: `"${url}"` });
    });
    const api = new ApiClient({ tokens, fetch: fetchMock as any });
    await api.get('/a');
    await api.get('/b');
    await api.get('/a');
    api.invalidate('/a');
    await api.get('/a');
    await api.get('/b');
    expect(seen).toEqual([null, null, '"/a"', null, '"/b"']);
  });
});

describe('ApiClient auth', () => {
  it('clears the token and reports a 401', async () => {
    const tokens = new TokenStore(memStore());
    tokens.set('old');
    const onUnauthorized = vi.fn();
    const api = new ApiClient({
      tokens,
      onUnauthorized,
      fetch: (async () => json(401, { error: { code: 'unauthenticated', message: 'token expired' } })) as any,
    });
    const err = await api.get('/api/session').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: 'unauthenticated', message: 'token expired' });
    expect(tokens.get()).toBeNull();
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('keeps the token on a 403 and surfaces the code', async () => {
    const tokens = new TokenStore(memStore());
    tokens.set('t');
    const api = new ApiClient({
      tokens,
      fetch: (async () => json(403, { error: { code: 'forbidden_role', message: 'needs lead' } })) as any,
    });
    const err = await api.post('/api/conversations/x/handoff', { action: 'transfer' }).catch((e) => e);
    expect(err.code).toBe('forbidden_role');
    expect(tokens.get()).toBe('t');
  });

  it('sends no Authorization header without a token', async () => {
    let auth: string | null = 'x';
    const api = new ApiClient({
      tokens: new TokenStore(memStore()),
      fetch: (async (_u: string, init: RequestInit) => {
        auth = new Headers(init.headers).get('authorization');
        return json(200, {});
      }) as any,
    });
    await api.get('/api/x');
    expect(auth).toBeNull();
  });

  it('takes #token= and #id_token= out of the fragment', () => {
    const tokens = new TokenStore(memStore());
    expect(takeTokenFromHash('', tokens)).toBe(false);
    expect(takeTokenFromHash('#/inbox', tokens)).toBe(false);
    expect(takeTokenFromHash('#token=abc.def.ghi', tokens)).toBe(true);
    expect(tokens.get()).toBe('abc.def.ghi');
    expect(takeTokenFromHash('#id_token=cog.nito.jwt&access_token=x&token_type=Bearer', tokens)).toBe(true);
    expect(tokens.get()).toBe('cog.nito.jwt');
  });

  it('builds the Cognito hosted UI URL', () => {
    const url = cognitoLoginUrl({ domain: 'https://x.auth.us-east-1.amazoncognito.com/', clientId: 'cid', redirectUri: 'https://c.example/' });
    expect(url).toBe(
      'https://x.auth.us-east-1.amazoncognito.com/oauth2/authorize?response_type=token&client_id=cid&redirect_uri=https%3A%2F%2Fc.example%2F&scope=openid+email',
    );
  });

  it('reads unverified JWT claims for display', () => {
    const payload = btoa(JSON.stringify({ sub: 'alice', roles: ['agent'] })).replace(/=+$/, '');
    expect(jwtClaims(`h.${payload}.s`)).toEqual({ sub: 'alice', roles: ['agent'] });
    expect(jwtClaims('garbage')).toBeNull();
  });
});
