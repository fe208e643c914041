import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, TokenStore, type Session } from '../src/api';
import { Ctx, type AppCtx } from '../src/hooks';
import { navFor } from '../src/nav';
import Operations, { prettyBody } from '../src/views/Operations';

afterEach(cleanup);

function memStore() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const ENVELOPE = '{"kind":"inline","event":{"wamid":"wamid.DL1","text":"lost and found"}}';

/** A fake `serve --demo` for the dead-letter routes: two letters in events-dlq.fifo. */
function fakeServer() {
  const letters = [
    { message_id: 'm-1', group: '15550104444', receive_count: 5, body: ENVELOPE },
    { message_id: 'm-2', group: '15550105555', receive_count: 3, body: 'not json at all' },
  ];
  const calls: { method: string; url: string; body: any }[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    calls.push({ method, url, body: init.body ? JSON.parse(String(init.body)) : undefined });
    if (method === 'GET' && url === '/api/dlq')
      return json(200, {
        queues: [
          { queue: 'events-dlq.fifo', depth: letters.length },
          { queue: 'media-dlq', depth: 0 },
        ],
      });
    if (method === 'GET' && url === '/api/dlq/events-dlq.fifo')
      return json(200, {
        queue: 'events-dlq.fifo',
        items: letters.map((l) => ({
          message_id: l.message_id,
          group: l.group,
          receive_count: l.receive_count,
          body_preview: l.body.slice(0, 200),
          size: l.body.length,
        })),
      });
    const one = url.match(/^\/api\/dlq\/events-dlq\.fifo\/(m-\d)$/);
    if (method === 'GET' && one) {
      const l = letters.find((x) => x.message_id === one[1]);
      return l ? json(200, l) : json(404, { error: { code: 'not_found', message: 'gone' } });
    }
    if (method === 'POST' && url === '/api/dlq/events-dlq.fifo/redrive') {
      const moved = letters.splice(0, letters.length).length;
      return json(200, { queue: 'events-dlq.fifo', moved, left: 0 });
    }
    return json(404, { error: { code: 'not_found', message: url } });
  });
  return { fetch, calls };
}

function renderOps(fetch: any, roles = ['admin', 'approver', 'lead']) {
  const api = new ApiClient({ tokens: new TokenStore(memStore()), fetch });
  const session: Session = { user: 'admin', tenant: 'demo', roles, demo: true, auth: 'dev' };
  const ctx: AppCtx = { api, session, navigate: () => {}, toast: vi.fn() };
  return render(
    <Ctx.Provider value={ctx}>
      <Operations />
    </Ctx.Provider>,
  );
}

describe('operations view (dead letters)', () => {
  it('lists queues with depth, shows a letter pretty-printed and redrives after a confirm', async () => {
    const server = fakeServer();
    renderOps(server.fetch);
    const queues = await screen.findAllByTestId('dlq-queue');
    expect(queues.map((q) => [q.dataset.queue, q.dataset.depth])).toEqual([
      ['events-dlq.fifo', '2'],
      ['media-dlq', '0'],
    ]);

    fireEvent.click(queues[0]);
    const items = await screen.findAllByTestId('dlq-item');
    expect(items.map((i) => i.dataset.id)).toEqual(['m-1', 'm-2']);
    expect(items[0].textContent).toContain('15550104444');

    // The detail pane: the JSON body, indented.
    fireEvent.click(items[0]);
    const body = await screen.findByTestId('dlq-body');
    expect(body.dataset.json).toBe('true');
    expect(body.textContent).toBe(JSON.stringify(JSON.parse(ENVELOPE), null, 2));
    expect(within(screen.getByTestId('dlq-detail')).getByText('5')).toBeTruthy();

    // A body that is not JSON is shown as it is.
    fireEvent.click(screen.getAllByTestId('dlq-item')[1]);
    await waitFor(() => expect(screen.getByTestId('dlq-body').textContent).toBe('not json at all'));
    expect(screen.getByTestId('dlq-body').dataset.json).toBe('false');

    // Redrive asks first; nothing is posted until the operator confirms.
    fireEvent.click(screen.getByRole('button', { name: 'Redrive…' }));
    expect(server.calls.some((c) => c.method === 'POST')).toBe(false);
    expect(screen.getByRole('group', { name: 'Confirm redrive' }).textContent).toContain('all 2 dead letters');
    fireEvent.click(screen.getByRole('button', { name: 'Confirm redrive' }));
    const result = await screen.findByTestId('redrive-result');
    expect(result.textContent).toBe('Moved 2, left 0.');
    expect(server.calls.filter((c) => c.method === 'POST')).toEqual([
      { method: 'POST', url: '/api/dlq/events-dlq.fifo/redrive', body: {} },
    ]);
    // The list and the depth are fetched again.
    await screen.findByTestId('dlq-empty');
    await waitFor(() => expect(screen.getAllByTestId('dlq-queue')[0].dataset.depth).toBe('0'));
  });

  it('cancels a redrive and sends max when the operator limits it', async () => {
    const server = fakeServer();
    renderOps(server.fetch);
    fireEvent.click((await screen.findAllByTestId('dlq-queue'))[0]);
    await screen.findAllByTestId('dlq-item');
    fireEvent.click(screen.getByRole('button', { name: 'Redrive…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('group', { name: 'Confirm redrive' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Redrive…' }));
    fireEvent.change(screen.getByLabelText('Redrive at most'), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm redrive' }));
    await screen.findByTestId('redrive-result');
    expect(server.calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ max: 1 }]);
  });

  it('explains a refusal for an admin of another tenant', async () => {
    const fetch = vi.fn(async () =>
      json(403, { error: { code: 'not_operations_tenant', message: 'dead letters belong to the deployment' } }),
    );
    renderOps(fetch);
    const refused = await screen.findByTestId('dlq-refused');
    expect(refused.textContent).toContain('operations tenant');
  });

  it('does not call the API without the admin role', async () => {
    const fetch = vi.fn(async () => json(200, { queues: [] }));
    renderOps(fetch, ['agent']);
    expect(screen.getByText('Operations needs the admin role.')).toBeTruthy();
    await new Promise((r) => setTimeout(r, 20));
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('navigation', () => {
  const session = (roles: string[]): Session => ({ user: 'u', tenant: 'demo', roles, demo: false, auth: 'dev' });
  it('shows Operations to admins only', () => {
    expect(navFor(session(['admin', 'approver', 'lead'])).map((n) => n.label)).toContain('Operations');
    expect(navFor(session(['lead', 'agent'])).map((n) => n.label)).not.toContain('Operations');
    expect(navFor(session(['agent'])).map((n) => n.label)).toContain('Inbox');
  });
});

describe('prettyBody', () => {
  it('indents JSON objects and leaves the rest alone', () => {
    expect(prettyBody('{"a":1}')).toEqual({ text: '{\n  "a": 1\n}', json: true });
    expect(prettyBody('[1]').json).toBe(true);
    expect(prettyBody('"just a string"')).toEqual({ text: '"just a string"', json: false });
    expect(prettyBody('{broken')).toEqual({ text: '{broken', json: false });
  });
});
