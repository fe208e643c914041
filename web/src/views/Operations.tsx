import { useCallback, useEffect, useState } from 'react';
import { ApiError, hasRole } from '../api';
import { ErrorLine } from '../components/bits';
import { useApp, usePoll } from '../hooks';

// Dead letters through the operator API (`GET /api/dlq…`, `POST /api/dlq/{queue}/redrive`): only
// admins of the deployment's operations tenant may use them; the server refuses everyone else.

export interface DlqQueue {
  queue: string;
  depth: number;
}

export interface DeadLetter {
  message_id: string;
  group: string;
  receive_count: number;
  body_preview: string;
  size: number;
}

export interface DeadLetterBody {
  message_id: string;
  group: string;
  receive_count: number;
  body: string;
}

export interface RedriveResult {
  queue: string;
  moved: number;
  left: number | null;
}

/** The server moves at most this many per request; "all" repeats requests until none is left. */
const PER_REQUEST = 500;
/** A bound on "all" (a source queue that keeps failing would otherwise refill the DLQ forever). */
const MAX_ROUNDS = 40;

/** A body as the detail pane shows it: pretty-printed when it is JSON, verbatim otherwise. */
export function prettyBody(body: string): { text: string; json: boolean } {
  try {
    const v = JSON.parse(body);
    if (v !== null && typeof v === 'object') return { text: JSON.stringify(v, null, 2), json: true };
  } catch {
    /* not JSON */
  }
  return { text: body, json: false };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const q = encodeURIComponent;

/** Why the overview failed, in the operator's words. */
function refusal(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.code === 'not_operations_tenant')
    return 'Dead letters belong to the deployment: only admins of its operations tenant can see them.';
  if (e.code === 'forbidden_role') return 'Dead letters need the admin role.';
  if (e.code === 'no_dead_letters') return 'This deployment exposes no dead-letter queues.';
  return null;
}

function Redrive({ queue, depth, onDone }: { queue: string; depth: number; onDone: (r: RedriveResult) => void }) {
  const { api, toast } = useApp();
  const [confirming, setConfirming] = useState(false);
  const [max, setMax] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RedriveResult | null>(null);
  const run = async () => {
    setBusy(true);
    const limit = max.trim() ? Math.max(1, Math.floor(Number(max))) : null;
    let moved = 0;
    let left: number | null = null;
    try {
      if (limit !== null) {
        // The server takes at most PER_REQUEST per call.
        let want = limit;
        while (want > 0) {
          const r = await api.post<RedriveResult>(`/api/dlq/${q(queue)}/redrive`, { max: Math.min(want, PER_REQUEST) });
          moved += r.moved;
          left = r.left;
          want -= r.moved;
          if (r.moved === 0 || r.left === 0) break;
        }
      } else {
        for (let round = 0; round < MAX_ROUNDS; round++) {
          const r = await api.post<RedriveResult>(`/api/dlq/${q(queue)}/redrive`, {});
          moved += r.moved;
          left = r.left;
          if (r.moved === 0 || r.left === 0) break;
        }
      }
      const res = { queue, moved, left };
      setResult(res);
      onDone(res);
    } catch (e: any) {
      toast(e.message, 'error');
      if (moved > 0) {
        const res = { queue, moved, left };
        setResult(res);
        onDone(res);
      }
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  return (
    <div className="redrive" data-testid="redrive">
      {!confirming ? (
        <button className="primary" disabled={busy} onClick={() => { setResult(null); setConfirming(true); }}>
          Redrive…
        </button>
      ) : (
        <div className="confirm" role="group" aria-label="Confirm redrive">
          <span>
            Move {max.trim() ? `up to ${max.trim()}` : `all ${depth}`} dead letter{depth === 1 && !max.trim() ? '' : 's'} of{' '}
            <code>{queue}</code> back to its source queue?
          </span>
          <label className="small">
            at most{' '}
            <input
              aria-label="Redrive at most"
              type="number"
              min={1}
              placeholder="all"
              value={max}
              onChange={(e) => setMax(e.target.value)}
              style={{ width: 80 }}
            />
          </label>
          <button className="primary" disabled={busy} onClick={run}>
            {busy ? 'Redriving…' : 'Confirm redrive'}
          </button>
          <button disabled={busy} onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {result && (
        <div className="redrive-result" role="status" data-testid="redrive-result">
          Moved <b>{result.moved}</b>, left <b>{result.left ?? '?'}</b>.
        </div>
      )}
    </div>
  );
}

function Detail({ queue, id, onClose }: { queue: string; id: string; onClose: () => void }) {
  const { api } = useApp();
  const [data, setData] = useState<DeadLetterBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    setData(null);
    setError(null);
    api
      .read<DeadLetterBody>(`/api/dlq/${q(queue)}/${q(id)}`)
      .then((d) => alive && setData(d))
      .catch((e) => alive && setError(e instanceof ApiError && e.status === 404 ? 'This dead letter is gone (redriven or expired).' : e.message));
    return () => {
      alive = false;
    };
  }, [api, queue, id]);
  const body = data ? prettyBody(data.body) : null;
  return (
    <section className="card dlq-detail" aria-label="Dead letter" data-testid="dlq-detail">
      <div className="dlq-detail-head">
        <h3>
          <code>{id}</code>
        </h3>
        <button className="link" onClick={onClose} aria-label="Close dead letter">
          ✕
        </button>
      </div>
      <ErrorLine error={error} />
      {!data && !error && <div className="muted">Loading…</div>}
      {data && body && (
        <>
          <dl className="dlq-meta">
            <dt>group</dt>
            <dd>
              <code>{data.group}</code>
            </dd>
            <dt>receives</dt>
            <dd>{data.receive_count}</dd>
            <dt>body</dt>
            <dd>{body.json ? 'JSON' : 'text'}</dd>
          </dl>
          <pre className="dlq-body" data-testid="dlq-body" data-json={body.json}>
            {body.text}
          </pre>
        </>
      )}
    </section>
  );
}

function Letters({ queue, depth, onRedriven }: { queue: string; depth: number; onRedriven: () => void }) {
  const { api } = useApp();
  const [items, setItems] = useState<DeadLetter[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  // The list peeks at the queue (each message is made visible again): loaded on demand, not polled.
  const load = useCallback(async () => {
    setError(null);
    try {
      api.invalidate(`/api/dlq/${q(queue)}`);
      const r = await api.read<{ queue: string; items: DeadLetter[] }>(`/api/dlq/${q(queue)}`);
      setItems(r.items);
    } catch (e: any) {
      setError(e.message);
    }
  }, [api, queue]);
  useEffect(() => {
    setItems(null);
    setOpen(null);
    load();
  }, [load]);
  return (
    <section className="dlq-queue" aria-label={`Dead letters of ${queue}`} data-testid="dlq-letters">
      <div className="dlq-toolbar">
        <h2>
          <code>{queue}</code> <span className="count">{depth} dead</span>
        </h2>
        <button onClick={load}>Refresh</button>
        <Redrive
          queue={queue}
          depth={depth}
          onDone={() => {
            setOpen(null);
            load();
            onRedriven();
          }}
        />
      </div>
      <ErrorLine error={error} />
      <div className="dlq-split">
        <div className="dlq-list">
          {items === null ? (
            <div className="empty">Loading…</div>
          ) : items.length === 0 ? (
            <div className="empty" data-testid="dlq-empty">
              No dead letters in this queue.
            </div>
          ) : (
            <table className="grid">
              <thead>
                <tr>
                  <th>Message</th>
                  <th>Group</th>
                  <th className="num">Receives</th>
                  <th className="num">Size</th>
                  <th>Body</th>
                </tr>
              </thead>
              <tbody>
                {items.map((m) => (
                  <tr
                    key={m.message_id}
                    data-testid="dlq-item"
                    data-id={m.message_id}
                    className={`clickable ${open === m.message_id ? 'selected' : ''}`}
                    aria-selected={open === m.message_id}
                    onClick={() => setOpen(m.message_id)}
                  >
                    <td className="ellipsis mono" title={m.message_id}>
                      {m.message_id}
                    </td>
                    <td className="ellipsis mono" title={m.group}>
                      {m.group}
                    </td>
                    <td className="num">{m.receive_count}</td>
                    <td className="num">{bytes(m.size)}</td>
                    <td className="ellipsis mono" title={m.body_preview}>
                      {m.body_preview}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {items && items.length > 0 && items.length < depth && (
            <div className="muted small">
              Showing the first {items.length} of {depth}.
            </div>
          )}
        </div>
        {open && <Detail queue={queue} id={open} onClose={() => setOpen(null)} />}
      </div>
    </section>
  );
}

/** Operations: the deployment's dead-letter queues, their messages, and redrive. */
export default function Operations() {
  const { api, session } = useApp();
  const [selected, setSelected] = useState<string | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const poll = usePoll<DlqQueue[]>(
    async () => {
      if (!hasRole(session, 'admin')) return [];
      try {
        const r = await api.get<{ queues: DlqQueue[] }>('/api/dlq');
        setRefused(null);
        return r.changed ? r.data.queues : undefined;
      } catch (e) {
        const why = refusal(e);
        if (why) {
          setRefused(why);
          return [];
        }
        throw e;
      }
    },
    [],
    5000,
  );
  if (!hasRole(session, 'admin')) {
    return (
      <div className="page operations">
        <h1>Operations</h1>
        <div className="empty">Operations needs the admin role.</div>
      </div>
    );
  }
  const queues = poll.data;
  const current = queues?.find((x) => x.queue === selected) ?? null;
  return (
    <div className="page operations" data-testid="operations">
      <h1>Operations</h1>
      <ErrorLine error={poll.error} />
      {refused ? (
        <div className="empty" role="alert" data-testid="dlq-refused">
          {refused}
        </div>
      ) : !queues ? (
        <div className="empty">Loading…</div>
      ) : (
        <>
          <h2>Dead-letter queues</h2>
          <table className="grid dlq-queues">
            <thead>
              <tr>
                <th>Queue</th>
                <th className="num">Depth</th>
              </tr>
            </thead>
            <tbody>
              {queues.map((d) => (
                <tr
                  key={d.queue}
                  data-testid="dlq-queue"
                  data-queue={d.queue}
                  data-depth={d.depth}
                  className={`clickable ${selected === d.queue ? 'selected' : ''}`}
                  aria-selected={selected === d.queue}
                  onClick={() => setSelected(d.queue)}
                >
                  <td>
                    <button className="link" aria-label={`Open ${d.queue}`}>
                      <code>{d.queue}</code>
                    </button>
                  </td>
                  <td className={`num ${d.depth > 0 ? 'dlq-nonempty' : ''}`}>{d.depth}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {current && (
            <Letters
              key={current.queue}
              queue={current.queue}
              depth={current.depth}
              onRedriven={() => {
                api.invalidate('/api/dlq');
                poll.refresh();
              }}
            />
          )}
        </>
      )}
    </div>
  );
}
