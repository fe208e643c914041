import { describe, expect, it } from 'vitest';
import { duration, relativeTime, slaCountdown, windowCountdown } from '../src/format';

describe('duration', () => {
  it('formats seconds, minutes, hours and days', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(45)).toBe('45s');
    expect(duration(61)).toBe('1m 01s');
    expect(duration(3600 + 5 * 60)).toBe('1h 05m');
    expect(duration(2 * 86400 + 3 * 3600 + 59)).toBe('2d 3h');
    expect(duration(-5)).toBe('0s');
  });
});

describe('slaCountdown', () => {
  const now = 1_000_000;
  const sla = (status: string, due: number, warn: number) => ({
    status,
    next_due_at: due,
    deadlines: [{ clock: 'first_response', warn_at: warn, due_at: due, status }],
  });
  it('counts down to the nearest deadline', () => {
    const c = slaCountdown(sla('ok', now + 600, now + 300), now);
    expect(c).toMatchObject({ text: '10m 00s', status: 'ok' });
    expect(c.title).toBe('first response due in 10m 00s');
  });
  it('turns amber from the warning time even before the server says so', () => {
    expect(slaCountdown(sla('ok', now + 100, now - 1), now).status).toBe('warning');
    expect(slaCountdown(sla('warning', now + 100, now + 50), now).status).toBe('warning');
  });
  it('turns red and counts up once due', () => {
    const c = slaCountdown(sla('warning', now - 125, now - 500), now);
    expect(c).toMatchObject({ text: '+2m 05s', status: 'breached' });
    expect(c.title).toContain('overdue');
  });
  it('keeps the server breach status', () => {
    expect(slaCountdown(sla('breached', now + 60, now), now).status).toBe('breached');
  });
  it('shows a dash without a running clock', () => {
    expect(slaCountdown(null, now)).toMatchObject({ text: '—', status: 'none' });
    expect(slaCountdown({ status: 'ok', next_due_at: null }, now).status).toBe('none');
  });
});

describe('windowCountdown', () => {
  const now = 2_000_000;
  it('counts down to the expiry', () => {
    expect(windowCountdown({ open: true, expires_at: now + 23 * 3600 + 60, seconds_left: 1 }, now).text).toBe('23h 01m');
  });
  it('warns in the last hour', () => {
    expect(windowCountdown({ open: true, expires_at: now + 59 * 60, seconds_left: 0 }, now).status).toBe('warning');
  });
  it('says closed when the window is closed or has run out since the fetch', () => {
    expect(windowCountdown({ open: false, expires_at: now - 1, seconds_left: 0 }, now).text).toBe('closed');
    expect(windowCountdown({ open: true, expires_at: now - 1, seconds_left: 10 }, now).text).toBe('closed');
    expect(windowCountdown(null, now).text).toBe('closed');
  });
});

describe('relativeTime', () => {
  it('is short', () => {
    const now = 1_800_000_000;
    expect(relativeTime(now - 10, now)).toBe('now');
    expect(relativeTime(now - 300, now)).toBe('5m ago');
    expect(relativeTime(now - 7200, now)).toBe('2h ago');
    expect(relativeTime(now - 3 * 86400, now)).toBe('3d ago');
  });
});
