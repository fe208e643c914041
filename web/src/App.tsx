import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import {
  ApiClient,
  ApiError,
  TokenStore,
  cognitoLoginUrl,
  jwtClaims,
  takeTokenFromHash,
  type RuntimeConfig,
  type Session,
} from './api';
import Simulator from './components/Simulator';
import { Ctx, type AppCtx } from './hooks';
import { navFor } from './nav';
import Inbox, { resetInboxCache } from './views/Inbox';
import Conversation from './views/Conversation';

const Queues = lazy(() => import('./views/Queues'));
const Templates = lazy(() => import('./views/Templates'));
const Media = lazy(() => import('./views/Media'));
const Metrics = lazy(() => import('./views/Metrics'));
const Onboarding = lazy(() => import('./views/Onboarding'));
const Operations = lazy(() => import('./views/Operations'));

function usePath(): [string, (p: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const on = () => setPath(window.location.pathname);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  const navigate = useCallback((p: string) => {
    if (p !== window.location.pathname) window.history.pushState(null, '', p);
    setPath(p);
  }, []);
  return [path, navigate];
}

async function loadConfig(): Promise<RuntimeConfig> {
  try {
    const r = await fetch('/config.json', { headers: { Accept: 'application/json' } });
    if (r.ok) {
      const c = await r.json();
      return { auth: c.auth ?? 'dev', apiBase: c.apiBase ?? '', cognito: c.cognito };
    }
  } catch {
    /* served without a config: local defaults */
  }
  return { auth: 'dev', apiBase: '' };
}

type Boot =
  | { phase: 'loading' }
  | { phase: 'login'; config: RuntimeConfig; reason?: string }
  | { phase: 'ready'; config: RuntimeConfig; session: Session }
  | { phase: 'error'; message: string };


function LoginPage({ config, reason, onToken }: { config: RuntimeConfig; reason?: string; onToken: (t: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <div className="login" data-testid="login">
      <h1>Switchboard console</h1>
      {reason && (
        <p className="error-line" role="alert">
          {reason}
        </p>
      )}
      {config.auth === 'cognito' ? (
        <p>Redirecting to sign-in…</p>
      ) : (
        <>
          <p>
            Open the <b>login link</b> that <code>switchboard serve</code> printed when it started (
            <code>http://127.0.0.1:8080/#token=…</code>), or paste a token made with{' '}
            <code>switchboard token --user alice --role agent</code>.
          </p>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (token.trim()) onToken(token.trim());
            }}
          >
            <label>
              Token
              <textarea aria-label="Token" rows={3} value={token} onChange={(e) => setToken(e.target.value)} />
            </label>
            <button className="primary">Sign in</button>
          </form>
        </>
      )}
    </div>
  );
}

function Route({ path }: { path: string }) {
  const m = path.match(/^\/c\/(.+)$/);
  if (m) return <Conversation id={decodeURIComponent(m[1])} />;
  switch (path) {
    case '/queues':
      return <Queues />;
    case '/templates':
      return <Templates />;
    case '/media':
      return <Media />;
    case '/metrics':
      return <Metrics />;
    case '/onboarding':
      return <Onboarding />;
    case '/operations':
      return <Operations />;
    default:
      return <Inbox />;
  }
}

export default function App() {
  const tokens = useMemo(() => new TokenStore(window.sessionStorage), []);
  const [boot, setBoot] = useState<Boot>({ phase: 'loading' });
  const [path, navigate] = usePath();
  const [simOpen, setSimOpen] = useState(() => sessionStorage.getItem('switchboard.simOpen') === '1');
  const [toasts, setToasts] = useState<{ id: number; text: string; kind: string }[]>([]);
  const [config, setConfig] = useState<RuntimeConfig | null>(null);

  const toast = useCallback((text: string, kind: 'error' | 'info' = 'info') => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, text, kind }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 5000);
  }, []);

  const api = useMemo(
    () =>
      new ApiClient({
        base: config?.apiBase ?? '',
        tokens,
        onUnauthorized: () => {
          resetInboxCache();
          setBoot((b) => ({
            phase: 'login',
            config: b.phase === 'ready' || b.phase === 'login' ? b.config : { auth: 'dev', apiBase: '' },
            reason: 'Your session has expired or the token was refused. Sign in again.',
          }));
        },
      }),
    [config, tokens],
  );

  const start = useCallback(
    async (cfg: RuntimeConfig, client: ApiClient) => {
      if (!tokens.get()) {
        if (cfg.auth === 'cognito' && cfg.cognito) {
          window.location.assign(cognitoLoginUrl(cfg.cognito));
        }
        setBoot({ phase: 'login', config: cfg });
        return;
      }
      try {
        const session = await client.read<Session>('/api/session');
        setBoot({ phase: 'ready', config: cfg, session });
      } catch (e: any) {
        if (e instanceof ApiError && e.status === 401) return; // onUnauthorized shows the login
        if (e instanceof ApiError && e.status === 404) {
          // A server without /api/session: derive what we can from the token.
          const c = jwtClaims(tokens.get()) ?? {};
          const roles = c.roles ?? (c['cognito:groups'] as string[]) ?? [];
          const user = c['cognito:username'] ?? c.sub ?? 'operator';
          const tenant = c['custom:tenant'] ?? c.tenant ?? '';
          setBoot({ phase: 'ready', config: cfg, session: { user, tenant, roles, demo: false, auth: cfg.auth } });
          return;
        }
        setBoot({ phase: 'error', message: e?.message ?? String(e) });
      }
    },
    [tokens],
  );

  useEffect(() => {
    if (takeTokenFromHash(window.location.hash, tokens)) {
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
    }
    loadConfig().then(setConfig);
  }, [tokens]);

  useEffect(() => {
    if (config) start(config, api);
  }, [config, api, start]);

  useEffect(() => {
    sessionStorage.setItem('switchboard.simOpen', simOpen ? '1' : '0');
  }, [simOpen]);

  if (boot.phase === 'loading') return <div className="boot">Loading…</div>;
  if (boot.phase === 'error')
    return (
      <div className="login">
        <h1>Switchboard console</h1>
        <p className="error-line" role="alert">
          The API is not reachable: {boot.message}
        </p>
        <button onClick={() => config && start(config, api)}>Retry</button>
      </div>
    );
  if (boot.phase === 'login')
    return (
      <LoginPage
        config={boot.config}
        reason={boot.reason}
        onToken={(t) => {
          tokens.set(t);
          start(boot.config, api);
        }}
      />
    );

  const { session } = boot;
  const ctx: AppCtx = { api, session, navigate, toast };
  const section = path.startsWith('/c/') ? '/' : path;
  return (
    <Ctx.Provider value={ctx}>
      <div className={`shell ${simOpen ? 'with-sim' : ''}`}>
        <nav className="sidenav" aria-label="Main">
          <div className="brand">
            <span className="logo">☎</span> Switchboard
          </div>
          <ul>
            {navFor(session).map((n) => (
              <li key={n.path}>
                <a
                  href={n.path}
                  aria-current={section === n.path ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(n.path);
                  }}
                >
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
          <div className="whoami" data-testid="whoami">
            <div>
              <b>{session.user}</b>
              <span className="muted"> @ {session.tenant}</span>
            </div>
            <div className="muted small">{session.roles.join(', ') || 'no role'}</div>
            <button
              className="link"
              onClick={() => {
                tokens.clear();
                resetInboxCache();
                setBoot({ phase: 'login', config: boot.config });
              }}
            >
              Sign out
            </button>
          </div>
        </nav>
        <main className="content">
          {session.demo && (
            <div className="topbar">
              <span className="demo-badge" title="switchboard serve --demo: a fake Graph API records what we send">
                DEMO
              </span>
              <button
                className={`sim-toggle ${simOpen ? 'on' : ''}`}
                aria-expanded={simOpen}
                aria-controls="simulator"
                onClick={() => setSimOpen((o) => !o)}
              >
                📱 Customer simulator
              </button>
            </div>
          )}
          <Suspense fallback={<div className="empty">Loading…</div>}>
            <Route path={path} />
          </Suspense>
        </main>
        {session.demo && <Simulator api={api} open={simOpen} onClose={() => setSimOpen(false)} />}
        <div className="toasts" aria-live="assertive">
          {toasts.map((t) => (
            <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
              {t.text}
            </div>
          ))}
        </div>
      </div>
    </Ctx.Provider>
  );
}
