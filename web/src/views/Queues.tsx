import { useState } from 'react';
import { hasRole } from '../api';
import { ErrorLine, SlaTimer, StateChip, WindowTimer } from '../components/bits';
import { relativeTime } from '../format';
import { useApp, useNow, usePoll } from '../hooks';

interface QueueRow {
  conversation_id: string;
  state: string;
  owner: string | null;
  urgency: string | null;
  priority: number;
  handoff_reason: string | null;
  handoff_requested_at: number | null;
  last_message_preview: string | null;
  window_expires_at: number | null;
  sla: any;
}

interface Queues {
  queues: { queue: string; waiting: number; conversations: QueueRow[] }[];
  policy_version: string;
  now: number;
}

/** Rows shown per queue before "show all" (the server ranks them: the top ones matter). */
const SHOWN = 50;

/** The handoff queues, grouped and ordered exactly as the server ranks them. */
export default function QueuesView() {
  const { api, session, navigate, toast } = useApp();
  const now = useNow(api);
  const [busy, setBusy] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<Record<string, boolean>>({});
  const poll = usePoll<Queues>(async () => {
    const r = await api.get<Queues>('/api/queues');
    return r.changed ? r.data : undefined;
  }, []);
  const canAccept = hasRole(session, 'agent', 'lead');
  const accept = async (id: string) => {
    setBusy(id);
    try {
      await api.post(`/api/conversations/${encodeURIComponent(id)}/handoff`, { action: 'accept' });
      api.invalidate('/api/');
      navigate(`/c/${encodeURIComponent(id)}`);
    } catch (e: any) {
      toast(e.message, 'error');
      poll.refresh();
    } finally {
      setBusy(null);
    }
  };
  const q = poll.data;
  return (
    <div className="page queues">
      <h1>Handoff queue</h1>
      <ErrorLine error={poll.error} />
      {!q ? (
        <div className="empty">Loading…</div>
      ) : q.queues.length === 0 ? (
        <div className="empty">Nobody is waiting for a human.</div>
      ) : (
        q.queues.map((g) => (
          <section key={g.queue} className="queue" aria-label={`Queue ${g.queue}`}>
            <h2>
              {g.queue} <span className="count">{g.waiting} waiting</span>
            </h2>
            <table className="grid">
              <thead>
                <tr>
                  <th>State</th>
                  <th>Priority</th>
                  <th>Urgency</th>
                  <th>Reason</th>
                  <th>Last message</th>
                  <th>Waiting</th>
                  <th>SLA</th>
                  <th>Window</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {(expanded[g.queue] ? g.conversations : g.conversations.slice(0, SHOWN)).map((c) => (
                  <tr key={c.conversation_id} data-testid="queue-row" data-id={c.conversation_id}>
                    <td>
                      <StateChip state={c.state} />
                      {c.owner && <span className="r-owner"> @{c.owner}</span>}
                    </td>
                    <td>{c.priority}</td>
                    <td className={`u-${c.urgency}`}>{c.urgency}</td>
                    <td>{c.handoff_reason}</td>
                    <td className="ellipsis">
                      <a
                        href={`/c/${encodeURIComponent(c.conversation_id)}`}
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(`/c/${encodeURIComponent(c.conversation_id)}`);
                        }}
                      >
                        {c.last_message_preview ?? c.conversation_id}
                      </a>
                    </td>
                    <td>{relativeTime(c.handoff_requested_at, now)}</td>
                    <td>
                      <SlaTimer sla={c.sla} now={now} />
                    </td>
                    <td>
                      <WindowTimer
                        window={{
                          open: !!c.window_expires_at && c.window_expires_at > now,
                          expires_at: c.window_expires_at,
                          seconds_left: 0,
                        }}
                        now={now}
                      />
                    </td>
                    <td>
                      {canAccept && c.state === 'awaiting_agent' && !c.owner && (
                        <button className="primary" disabled={busy === c.conversation_id} onClick={() => accept(c.conversation_id)}>
                          Accept
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {g.conversations.length > SHOWN && !expanded[g.queue] && (
              <button className="link" onClick={() => setExpanded({ ...expanded, [g.queue]: true })}>
                Show all {g.conversations.length}
              </button>
            )}
          </section>
        ))
      )}
    </div>
  );
}
