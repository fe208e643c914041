// Time formatting: countdowns for SLA deadlines and the 24-hour window, relative times.

/** `1d 4h`, `3h 05m`, `12m 09s`, `45s` for a non-negative number of seconds. */
export function duration(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const p2 = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${p2(m)}m`;
  if (m > 0) return `${m}m ${p2(r)}s`;
  return `${r}s`;
}

export type SlaStatus = 'ok' | 'warning' | 'breached' | 'none';

/**
 * The `sla` of a conversation row (`GET /api/conversations`, present while a human is awaited or
 * owns the conversation) and of a handoff queue row (`GET /api/queues`).
 */
export interface SlaLike {
  status?: 'ok' | 'warning' | 'breached' | string | null;
  next_due_at?: number | null;
  policy_version?: string | number | null;
  deadlines?: { clock: string; started_at?: number; warn_at: number; due_at: number; status: string }[];
}

export interface Countdown {
  text: string;
  status: SlaStatus;
  /** Full sentence for a title / screen reader. */
  title: string;
}

/**
 * The SLA timer of a row: counts down to the nearest deadline; amber from the warning time (or
 * when the server says `warning`), red once due (`+12m` overdue) or when the server says
 * `breached`.
 */
export function slaCountdown(sla: SlaLike | null | undefined, now: number): Countdown {
  if (!sla || sla.next_due_at == null) {
    return { text: '—', status: 'none', title: 'no SLA clock running' };
  }
  const due = sla.next_due_at;
  const left = due - now;
  let status: SlaStatus = (sla.status as SlaStatus) ?? 'ok';
  const nearest = sla.deadlines?.find((d) => d.due_at === due);
  if (left <= 0) status = 'breached';
  else if (status === 'ok' && nearest && now >= nearest.warn_at) status = 'warning';
  if (status !== 'ok' && status !== 'warning' && status !== 'breached') status = 'ok';
  const clock = nearest ? nearest.clock.replace(/_/g, ' ') : 'next deadline';
  if (left <= 0) {
    return { text: `+${duration(-left)}`, status, title: `${clock} overdue by ${duration(-left)}` };
  }
  return { text: duration(left), status, title: `${clock} due in ${duration(left)}` };
}

export interface WindowLike {
  open: boolean;
  expires_at?: number | null;
  seconds_left: number;
}

/** The customer service window: `23h 59m` left, or `closed`. */
export function windowCountdown(w: WindowLike | null | undefined, now: number): Countdown {
  if (!w) return { text: 'closed', status: 'breached', title: 'no customer service window' };
  const left = w.expires_at != null ? w.expires_at - now : w.open ? w.seconds_left : 0;
  if (!w.open || left <= 0) {
    return { text: 'closed', status: 'breached', title: 'window closed: templates only' };
  }
  const status: SlaStatus = left < 3600 ? 'warning' : 'ok';
  return { text: duration(left), status, title: `window closes in ${duration(left)}` };
}

/** `now`, `5m ago`, `3h ago`, `2d ago`, or a date when older than a week. */
export function relativeTime(ts: number | null | undefined, now: number): string {
  if (!ts) return '';
  const ago = Math.floor(now - ts);
  if (ago < 45) return 'now';
  if (ago < 3600) return `${Math.max(1, Math.round(ago / 60))}m ago`;
  if (ago < 86400) return `${Math.floor(ago / 3600)}h ago`;
  if (ago < 7 * 86400) return `${Math.floor(ago / 86400)}d ago`;
  return new Date(ts * 1000).toISOString().slice(0, 10);
}

export function clockTime(ts: number | null | undefined): string {
  if (!ts) return '';
  const d = new Date(ts * 1000);
  return d.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function pct(x: number | null | undefined): string {
  if (x == null || Number.isNaN(x)) return '—';
  return `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;
}
