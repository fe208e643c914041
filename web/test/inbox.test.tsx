import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup } from '@testing-library/react';
import { ApiClient, TokenStore } from '../src/api';
import { Ctx, type AppCtx } from '../src/hooks';
import { EMPTY_FILTER, facets, filterConversations, tagsOf, type Conversation } from '../src/model';
import Inbox, { InboxList, ROW_HEIGHT, resetInboxCache } from '../src/views/Inbox';

afterEach(() => {
  cleanup();
  resetInboxCache();
});

const STATES = ['bot', 'awaiting_agent', 'assigned', 'resolved'];
function conv(i: number): Conversation {
  return {
    id: `cv_${i}`,
    state: STATES[i % 4],
    contact_id: `c_${i}`,
    contact: { phone: `1555${String(i).padStart(7, '0')}`, bsuid: null, username: null, profile_name: `Customer ${i}` },
    owner: i % 4 === 2 ? 'alice' : null,
    last_activity: 1_800_000_000 - i,
    last_message_preview: i % 10 === 0 ? 'I want a refund' : 'where is my order',
    last_message_type: 'text',
    message_count: 1,
    created_at: 1_800_000_000 - i,
    window: { open: true, expires_at: 1_800_000_000 + 3600, seconds_left: 3600 },
    queue: i % 3 === 0 ? 'finance' : 'tier1',
    urgency: i % 7 === 0 ? 'high' : 'normal',
    language: i % 2 ? 'en' : 'pt',
    last_intent: i % 10 === 0 ? 'return_refund' : 'order_status',
    needs_review: i % 50 === 0,
    last_triage: { risks: i % 100 === 0 ? ['legal_threat'] : [] },
    sla: i % 4 === 1 ? { status: 'ok', next_due_at: 1_800_000_600, deadlines: [] } : null,
  };
}
const rows = Array.from({ length: 5000 }, (_, i) => conv(i));

describe('inbox filtering', () => {
  it('derives triage tags', () => {
    expect(tagsOf(conv(0))).toEqual(['intent:return_refund', 'urgency:high', 'lang:pt', 'risk:legal_threat', 'needs_review']);
  });
  it('filters by state, queue, tag and text together', () => {
    expect(filterConversations(rows, EMPTY_FILTER)).toBe(rows);
    expect(filterConversations(rows, { ...EMPTY_FILTER, state: 'awaiting_agent' })).toHaveLength(1250);
    const f = filterConversations(rows, { state: 'bot', queue: 'finance', tag: 'intent:return_refund', text: '' });
    expect(f.every((c) => c.state === 'bot' && c.queue === 'finance' && c.last_intent === 'return_refund')).toBe(true);
    expect(f.length).toBeGreaterThan(0);
    expect(filterConversations(rows, { ...EMPTY_FILTER, text: 'customer 4999' }).map((c) => c.id)).toEqual(['cv_4999']);
    expect(filterConversations(rows, { ...EMPTY_FILTER, text: 'REFUND 15550000010' }).map((c) => c.id)).toEqual(['cv_10']);
  });
  it('counts facets', () => {
    const f = facets(rows);
    expect(f.states.find(([s]) => s === 'assigned')![1]).toBe(1250);
    expect(f.queues[0]).toEqual(['tier1', 3333]);
  });
});

describe('virtualised inbox list', () => {
  const noop = () => {};
  it('renders only the rows in view of 5,000', () => {
    render(<InboxList rows={rows} filter={EMPTY_FILTER} selected={0} setSelected={noop} onOpen={noop} now={1_800_000_000} />);
    const rendered = screen.getAllByTestId('inbox-row');
    // 600 px of 58 px rows plus overscan: a few dozen, never thousands.
    expect(rendered.length).toBeLessThan(40);
    expect(rendered.length).toBeGreaterThan(5);
    expect(rendered[0].dataset.id).toBe('cv_0');
    expect(screen.getByRole('list', { name: 'Conversations' }).getAttribute('aria-rowcount')).toBe('5000');
    expect(screen.getByTestId('inbox-count').textContent).toBe('5000 conversations');
  });

  it('renders the rows at the scroll position', () => {
    render(<InboxList rows={rows} filter={EMPTY_FILTER} selected={0} setSelected={noop} onOpen={noop} now={1_800_000_000} />);
    const list = screen.getByRole('list', { name: 'Conversations' });
    act(() => {
      list.scrollTop = 3000 * ROW_HEIGHT;
      fireEvent.scroll(list);
    });
    const ids = screen.getAllByTestId('inbox-row').map((r) => r.dataset.id);
    expect(ids).toContain('cv_3000');
    expect(ids).not.toContain('cv_0');
    expect(ids.length).toBeLessThan(40);
  });

  it('re-renders with the filter applied', () => {
    const { rerender } = render(
      <InboxList rows={rows} filter={EMPTY_FILTER} selected={0} setSelected={noop} onOpen={noop} now={1_800_000_000} />,
    );
    rerender(
      <InboxList rows={rows} filter={{ ...EMPTY_FILTER, tag: 'risk:legal_threat' }} selected={0} setSelected={noop} onOpen={noop} now={1_800_000_000} />,
    );
    expect(screen.getByTestId('inbox-count').textContent).toBe('50 of 5000 conversations');
    const shown = screen.getAllByTestId('inbox-row');
    expect(shown.every((r) => Number(r.dataset.id!.slice(3)) % 100 === 0)).toBe(true);
    expect(shown[0].querySelector('[data-tag="risk:legal_threat"]')).not.toBeNull();
  });

  it('opens a row on click', () => {
    const opened: string[] = [];
    render(<InboxList rows={rows} filter={EMPTY_FILTER} selected={0} setSelected={noop} onOpen={(id) => opened.push(id)} now={1_800_000_000} />);
    fireEvent.click(screen.getAllByTestId('inbox-row')[2]);
    expect(opened).toEqual(['cv_2']);
  });

  it('shows SLA and window countdowns', () => {
    render(<InboxList rows={rows.slice(0, 3)} filter={EMPTY_FILTER} selected={0} setSelected={noop} onOpen={noop} now={1_800_000_000} />);
    const r1 = screen.getAllByTestId('inbox-row')[1];
    expect(r1.querySelector('[data-testid=sla-timer]')!.textContent).toBe('⏱ 10m 00s');
    expect(r1.querySelector('[data-testid=window-timer]')!.textContent).toBe('◷ 1h 00m');
  });
});

describe('inbox SLA from the listing', () => {
  function memStore() {
    const m = new Map<string, string>();
    return {
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => void m.set(k, v),
      removeItem: (k: string) => void m.delete(k),
    };
  }
  // Each row of `GET /api/conversations` carries its own `sla` while a human is awaited or owns
  // the conversation, and none otherwise.
  function row(i: number, state: string, sla: Conversation['sla'] | undefined): Conversation {
    const c = conv(i);
    c.state = state;
    if (sla === undefined) delete c.sla;
    else c.sla = sla;
    return c;
  }

  it('shows the timer of each row from its own sla and never asks /api/queues', async () => {
    const now = Math.floor(Date.now() / 1000);
    const deadline = (clock: string, status: string, warn: number, due: number) => ({
      clock,
      started_at: now - 60,
      warn_at: warn,
      due_at: due,
      status,
    });
    const items = [
      row(1, 'awaiting_agent', {
        status: 'ok',
        next_due_at: now + 3000,
        policy_version: '2026-11-22.1',
        deadlines: [deadline('first_response', 'ok', now + 2000, now + 3000), deadline('resolution', 'ok', now + 9000, now + 99000)],
      }),
      row(2, 'assigned', {
        status: 'warning',
        next_due_at: now + 300,
        policy_version: '2026-11-22.1',
        deadlines: [deadline('first_response', 'warning', now - 10, now + 300)],
      }),
      row(3, 'awaiting_agent', {
        status: 'breached',
        next_due_at: now - 125,
        policy_version: '2026-11-22.1',
        deadlines: [deadline('first_response', 'breached', now - 500, now - 125)],
      }),
      row(4, 'bot', undefined),
    ];
    const urls: string[] = [];
    const fetch = vi.fn(async (url: string) => {
      urls.push(url);
      if (url.startsWith('/api/conversations'))
        return new Response(JSON.stringify({ items, next_cursor: null }), {
          status: 200,
          headers: { 'content-type': 'application/json', etag: '"v1"' },
        });
      return new Response(JSON.stringify({ error: { code: 'not_found', message: url } }), { status: 404 });
    });
    const api = new ApiClient({ tokens: new TokenStore(memStore()), fetch: fetch as any });
    const ctx: AppCtx = {
      api,
      session: { user: 'ana', tenant: 'demo', roles: ['agent'], demo: false, auth: 'dev' },
      navigate: () => {},
      toast: () => {},
    };
    render(
      <Ctx.Provider value={ctx}>
        <Inbox />
      </Ctx.Provider>,
    );
    const rows = await screen.findAllByTestId('inbox-row');
    expect(rows.map((r) => r.dataset.id)).toEqual(['cv_1', 'cv_2', 'cv_3', 'cv_4']);
    const timer = (i: number) => rows[i].querySelector('[data-testid=sla-timer]') as HTMLElement;
    expect(timer(0).className).toContain('t-ok');
    expect(timer(0).textContent).toMatch(/^⏱ (50m 0\ds|49m [45]\ds)$/);
    expect(timer(0).title).toMatch(/^first response due in /);
    expect(timer(1).className).toContain('t-warning');
    expect(timer(2).className).toContain('t-breached');
    expect(timer(2).textContent).toMatch(/^⏱ \+2m 0\ds$/);
    expect(timer(3).className).toContain('t-none');
    expect(timer(3).textContent).toBe('—');
    await waitFor(() => expect(urls.length).toBeGreaterThan(0));
    expect(urls.every((u) => u.startsWith('/api/conversations'))).toBe(true);
  });
});
