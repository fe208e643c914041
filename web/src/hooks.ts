import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ApiClient, Session } from './api';

export interface AppCtx {
  api: ApiClient;
  session: Session;
  navigate: (path: string) => void;
  toast: (text: string, kind?: 'error' | 'info') => void;
}

export const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('no app context');
  return c;
}

export const POLL_MS = 2000;

export interface Poll<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  /** Fetch now (after a write), then keep the rhythm. */
  refresh: () => void;
}

/**
 * Polls `load` every `interval` ms while mounted (skipping while the tab is hidden). `load`
 * returns `undefined` when nothing changed (a 304), so the state — and React — stays put.
 */
export function usePoll<T>(
  load: () => Promise<T | undefined>,
  deps: unknown[],
  interval = POLL_MS,
): Poll<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const tick = useRef<() => void>(() => {});
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let first = true;
    setLoading(true);
    setData(null);
    const run = async () => {
      if (timer) clearTimeout(timer);
      if (running) return;
      running = true;
      try {
        if (first || typeof document === 'undefined' || !document.hidden) {
          first = false;
          const v = await load();
          if (!alive) return;
          if (v !== undefined) setData(v);
          setError(null);
        }
      } catch (e: any) {
        if (alive) setError(e?.message ?? String(e));
      } finally {
        running = false;
        if (alive) {
          setLoading(false);
          timer = setTimeout(run, interval);
        }
      }
    };
    tick.current = run;
    run();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  const refresh = useCallback(() => tick.current(), []);
  return { data, error, loading, refresh };
}

// One shared one-second clock for every countdown on screen.
let nowSecs = Date.now() / 1000;
const listeners = new Set<() => void>();
let clockTimer: ReturnType<typeof setInterval> | undefined;
function subscribe(l: () => void) {
  listeners.add(l);
  if (!clockTimer) {
    // The clock was stopped (nothing on screen counted down): catch up before the first tick.
    // React reads the snapshot again after subscribing, so the first render is corrected at once.
    nowSecs = Math.floor(Date.now() / 1000);
    clockTimer = setInterval(() => {
      nowSecs = Math.floor(Date.now() / 1000);
      listeners.forEach((f) => f());
    }, 1000);
  }
  return () => {
    listeners.delete(l);
    if (listeners.size === 0 && clockTimer) {
      clearInterval(clockTimer);
      clockTimer = undefined;
    }
  };
}

/** The server's current time in seconds, re-rendering every second. */
export function useNow(api?: ApiClient): number {
  const t = useSyncExternalStore(subscribe, () => nowSecs);
  return Math.floor(t + (api?.skew ?? 0));
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
