import { useState } from 'react';
import { ErrorLine } from '../components/bits';
import { clockTime } from '../format';
import { useApp, usePoll } from '../hooks';

interface MediaItem {
  wamid: string;
  conversation_id: string;
  contact_id: string;
  type: string;
  status: string;
  reason: string | null;
  mime_type: string | null;
  filename: string | null;
  caption: string | null;
  size: number | null;
  sent_at: number;
  url: string | null;
}

const EMPTY = { type: '', status: '', filename: '', sender: '', conversation_id: '', from: '', to: '' };

function toUnix(date: string, end: boolean): string {
  if (!date) return '';
  const t = Date.parse(`${date}T00:00:00Z`) / 1000;
  return String(end ? t + 86399 : t);
}

function size(n: number | null): string {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export default function Media() {
  const { api, navigate } = useApp();
  const [f, setF] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const [more, setMore] = useState<{ items: MediaItem[]; cursor: string | null }>({ items: [], cursor: null });
  const query = () => {
    const q = new URLSearchParams({ limit: '50' });
    for (const [k, v] of Object.entries(applied)) {
      if (!v) continue;
      if (k === 'from') q.set('from', toUnix(v, false));
      else if (k === 'to') q.set('to', toUnix(v, true));
      else q.set(k, v);
    }
    return q.toString();
  };
  const poll = usePoll<{ items: MediaItem[]; next_cursor: string | null }>(
    async () => {
      const r = await api.get(`/api/media?${query()}`);
      if (r.changed) setMore({ items: [], cursor: r.data.next_cursor });
      return r.changed ? r.data : undefined;
    },
    [JSON.stringify(applied)],
    5000,
  );
  const items = [...(poll.data?.items ?? []), ...more.items];
  const loadMore = async () => {
    if (!more.cursor) return;
    const r = await api.read(`/api/media?${query()}&cursor=${encodeURIComponent(more.cursor)}`);
    setMore({ items: [...more.items, ...r.items], cursor: r.next_cursor });
  };
  const set = (k: keyof typeof EMPTY) => (e: any) => setF({ ...f, [k]: e.target.value });
  return (
    <div className="page media">
      <h1>Media</h1>
      <form
        className="toolbar wrap"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(f);
        }}
      >
        <select aria-label="Media type" value={f.type} onChange={set('type')}>
          <option value="">Any type</option>
          {['image', 'video', 'audio', 'document', 'sticker'].map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <select aria-label="Media status" value={f.status} onChange={set('status')}>
          <option value="">Any status</option>
          {['pending', 'stored', 'quarantined', 'lost', 'unrecoverable'].map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <input aria-label="Filename" placeholder="filename contains…" value={f.filename} onChange={set('filename')} />
        <input aria-label="Sender" placeholder="sender (phone, contact id)" value={f.sender} onChange={set('sender')} />
        <input aria-label="Conversation" placeholder="conversation id" value={f.conversation_id} onChange={set('conversation_id')} />
        <label className="inline">
          From <input type="date" aria-label="From date" value={f.from} onChange={set('from')} />
        </label>
        <label className="inline">
          To <input type="date" aria-label="To date" value={f.to} onChange={set('to')} />
        </label>
        <button className="primary">Search</button>
        <button type="button" className="link" onClick={() => { setF(EMPTY); setApplied(EMPTY); }}>
          Clear
        </button>
      </form>
      <ErrorLine error={poll.error} />
      {!poll.data ? (
        <div className="empty">Loading…</div>
      ) : items.length === 0 ? (
        <div className="empty">No media matches.</div>
      ) : (
        <div className="media-grid">
          {items.map((m) => (
            <figure key={m.wamid} className="media-card" data-testid="media-card">
              <div className="thumb">
                {m.type === 'image' && m.url ? (
                  <a href={m.url} target="_blank" rel="noreferrer">
                    <img src={m.url} alt={m.caption || m.filename || 'image'} loading="lazy" />
                  </a>
                ) : m.url ? (
                  <a href={m.url} target="_blank" rel="noreferrer" className="doc-icon">
                    📄
                  </a>
                ) : (
                  <span className="doc-icon muted">{m.status}</span>
                )}
              </div>
              <figcaption>
                <div className="ellipsis">
                  <b>{m.filename ?? m.caption ?? m.type}</b>
                </div>
                <div className="muted small">
                  {m.type} · {m.mime_type} · {size(m.size)}
                </div>
                <div className="muted small">
                  {clockTime(m.sent_at)} · <span className={`st-${m.status}`}>{m.status}</span>
                  {m.reason && ` (${m.reason})`}
                </div>
                <a
                  className="small"
                  href={`/c/${encodeURIComponent(m.conversation_id)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`/c/${encodeURIComponent(m.conversation_id)}`);
                  }}
                >
                  open conversation
                </a>
              </figcaption>
            </figure>
          ))}
        </div>
      )}
      {more.cursor && (
        <button className="link" onClick={loadMore}>
          Load more
        </button>
      )}
    </div>
  );
}
