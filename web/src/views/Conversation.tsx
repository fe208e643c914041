import { useEffect, useRef, useState } from 'react';
import { ApiError, hasRole, idempotencyKey, type ApiClient } from '../api';
import { ErrorLine, SlaTimer, StateChip, Tags, WindowTimer } from '../components/bits';
import { clockTime, pct } from '../format';
import { useApp, useNow, usePoll } from '../hooks';
import { contactName, type Conversation as Conv, type Listing, type Message } from '../model';

async function allMessages(api: ApiClient, id: string): Promise<{ items: Message[]; changed: boolean }> {
  const base = `/api/conversations/${encodeURIComponent(id)}/messages?limit=200`;
  let r = await api.get<Listing<Message>>(base);
  let changed = r.changed;
  const items = [...r.data.items];
  while (r.data.next_cursor) {
    r = await api.get<Listing<Message>>(`${base}&cursor=${encodeURIComponent(r.data.next_cursor)}`);
    changed ||= r.changed;
    items.push(...r.data.items);
  }
  return { items, changed };
}

interface Bundle {
  conv: Conv;
  messages: Message[];
  context: any;
}

function mediaUrlOf(m: Message, media: any[]): any | null {
  return media?.find((x) => x.wamid === m.wamid) ?? null;
}

function originLabel(m: Message): string {
  if (m.direction === 'inbound') return '';
  const o = m.origin;
  if (!o) return 'business';
  if (o.kind === 'agent') return `agent ${o.name ?? ''}`.trim();
  if (o.kind === 'bot') return 'bot';
  return o.name ? `${o.kind} ${o.name}` : o.kind;
}

/** The readable body of a message: text, caption, interactive body and options, template name. */
function MessageBody({ m, media }: { m: Message; media: any | null }) {
  const raw = m.raw ?? {};
  const type = m.type || raw.type;
  const parts: React.ReactNode[] = [];
  if (type === 'text') parts.push(<span key="t">{raw.text?.body ?? m.preview}</span>);
  else if (type === 'image' || type === 'sticker') {
    if (media?.url) {
      parts.push(
        <a key="i" href={media.url} target="_blank" rel="noreferrer">
          <img className="msg-img" src={media.url} alt={media.caption || 'image'} />
        </a>,
      );
    } else parts.push(<span key="i" className="muted">[{type}{media ? `: ${media.status}` : ''}]</span>);
    const cap = raw.image?.caption ?? media?.caption;
    if (cap) parts.push(<div key="c">{cap}</div>);
  } else if (type === 'document' || type === 'video' || type === 'audio') {
    const name = raw.document?.filename ?? media?.filename ?? type;
    parts.push(
      media?.url ? (
        <a key="d" className="doc-link" href={media.url} target="_blank" rel="noreferrer">
          📄 {name}
        </a>
      ) : (
        <span key="d" className="muted">
          📄 {name} {media ? `(${media.status})` : ''}
        </span>
      ),
    );
    const cap = raw[type]?.caption ?? media?.caption;
    if (cap) parts.push(<div key="c">{cap}</div>);
  } else if (type === 'interactive') {
    const i = raw.interactive ?? {};
    if (i.button_reply) parts.push(<span key="b">▸ {i.button_reply.title}</span>);
    else if (i.list_reply) parts.push(<span key="b">▸ {i.list_reply.title}</span>);
    else {
      if (i.body?.text) parts.push(<div key="body">{i.body.text}</div>);
      const opts: string[] = [
        ...(i.action?.buttons ?? []).map((b: any) => b.reply?.title ?? b.title),
        ...(i.action?.sections ?? []).flatMap((s: any) => (s.rows ?? []).map((r: any) => r.title)),
      ].filter(Boolean);
      if (opts.length) {
        parts.push(
          <div key="o" className="msg-options">
            {opts.map((o) => (
              <span key={o} className="opt">
                {o}
              </span>
            ))}
          </div>,
        );
      }
    }
  } else if (type === 'template') {
    const t = raw.template ?? m.template ?? {};
    parts.push(
      <span key="tpl">
        <b>template</b> {t.name ?? ''} {t.language?.code ?? t.language ?? ''}
      </span>,
    );
  } else {
    parts.push(<span key="x">{m.preview ?? `[${type}]`}</span>);
  }
  return <>{parts}</>;
}

function Thread({ messages, media }: { messages: Message[]; media: any[] }) {
  const end = useRef<HTMLDivElement>(null);
  const count = messages.length;
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [count]);
  return (
    <div className="thread" data-testid="thread" aria-label="Messages">
      {messages.map((m) => (
        <div key={m.wamid} className={`msg ${m.direction}`} data-testid="message" data-direction={m.direction}>
          <div className="bubble">
            <MessageBody m={m} media={mediaUrlOf(m, media)} />
          </div>
          <div className="msg-meta">
            {originLabel(m) && <span>{originLabel(m)} · </span>}
            {clockTime(m.timestamp)}
            {m.triage?.intent && (
              <span className="muted">
                {' '}
                · {m.triage.intent} {pct(m.triage.confidence)}
              </span>
            )}
            {m.triage?.abstained && <span className="muted"> · abstained</span>}
          </div>
        </div>
      ))}
      <div ref={end} />
    </div>
  );
}

function ContextPanel({ ctx }: { ctx: any }) {
  if (!ctx) return null;
  return (
    <aside className="context" aria-label="Context packet" data-testid="context-panel">
      <h3>Context</h3>
      {ctx.handoff_reason && (
        <p>
          <b>Why a human:</b> {ctx.handoff_reason}
        </p>
      )}
      {ctx.entities?.length > 0 && (
        <>
          <h4>Entities</h4>
          <ul className="kv">
            {ctx.entities.map((e: any, i: number) => (
              <li key={i}>
                <span className="muted">{e.kind.replace(/_/g, ' ')}</span> {e.value}
              </li>
            ))}
          </ul>
        </>
      )}
      {ctx.intent_history?.length > 0 && (
        <>
          <h4>Intent history</h4>
          <ol className="intents">
            {ctx.intent_history.map((h: any) => (
              <li key={h.wamid}>
                <b>{h.intent ?? (h.abstained ? 'abstained' : '—')}</b> {pct(h.confidence)}{' '}
                <span className="muted">{h.modality}</span>
                {h.candidates && h.abstained && (
                  <div className="muted small">
                    {h.candidates.map((c: [string, number]) => `${c[0]} ${pct(c[1])}`).join(' · ')}
                  </div>
                )}
                {h.risks?.length > 0 && <div className="risk">risks: {h.risks.join(', ')}</div>}
              </li>
            ))}
          </ol>
        </>
      )}
      {ctx.media?.length > 0 && (
        <>
          <h4>Media</h4>
          <div className="ctx-media">
            {ctx.media.map((m: any) =>
              m.type === 'image' && m.url ? (
                <a key={m.wamid} href={m.url} target="_blank" rel="noreferrer">
                  <img src={m.url} alt={m.caption || 'image'} />
                </a>
              ) : (
                <a key={m.wamid} href={m.url ?? undefined} target="_blank" rel="noreferrer">
                  📄 {m.filename ?? m.type} <span className="muted">{m.status}</span>
                </a>
              ),
            )}
          </div>
        </>
      )}
      {ctx.sla?.deadlines?.length > 0 && (
        <>
          <h4>SLA ({ctx.sla.policy_version})</h4>
          <ul className="kv">
            {ctx.sla.deadlines.map((d: any) => (
              <li key={d.clock}>
                <span className="muted">{d.clock.replace(/_/g, ' ')}</span> due {clockTime(d.due_at)}{' '}
                <span className={`t-${d.status}`}>{d.status}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}

function Actions({ conv, onDone }: { conv: Conv; onDone: () => void }) {
  const { api, session, toast } = useApp();
  const [busy, setBusy] = useState(false);
  const [queue, setQueue] = useState(conv.queue ?? '');
  const [agent, setAgent] = useState('');
  const isLead = hasRole(session, 'lead');
  const isAgent = hasRole(session, 'agent', 'lead');
  const act = async (body: any) => {
    setBusy(true);
    try {
      await api.post(`/api/conversations/${encodeURIComponent(conv.id)}/handoff`, body);
      api.invalidate('/api/');
      onDone();
    } catch (e: any) {
      toast(e.message, 'error');
    } finally {
      setBusy(false);
    }
  };
  const s = conv.state;
  const mine = conv.owner === session.user;
  const buttons: React.ReactNode[] = [];
  if (isAgent && s === 'awaiting_agent' && !conv.owner)
    buttons.push(
      <button key="a" className="primary" disabled={busy} onClick={() => act({ action: 'accept' })}>
        Accept
      </button>,
    );
  if (isAgent && (s === 'bot' || s === 'resolved'))
    buttons.push(
      <button key="r" disabled={busy} onClick={() => act({ action: 'request', queue: conv.queue ?? 'front_line', reason: `requested by ${session.user}` })}>
        Take over from bot
      </button>,
    );
  if ((mine || isLead) && (s === 'assigned' || s === 'awaiting_customer')) {
    buttons.push(
      <button key="res" disabled={busy} onClick={() => act({ action: 'resolve' })}>
        Resolve
      </button>,
      <button key="ret" disabled={busy} onClick={() => act({ action: 'return_to_bot' })}>
        Return to bot
      </button>,
    );
  }
  return (
    <div className="actions" aria-label="Handoff actions">
      {buttons}
      {isLead && ['awaiting_agent', 'assigned', 'awaiting_customer'].includes(s) && (
        <form
          className="transfer"
          onSubmit={(e) => {
            e.preventDefault();
            act({ action: 'transfer', queue, to_agent: agent.trim() || null });
          }}
        >
          <input aria-label="Transfer to queue" placeholder="queue" value={queue} onChange={(e) => setQueue(e.target.value)} required />
          <input aria-label="Transfer to agent" placeholder="agent (optional)" value={agent} onChange={(e) => setAgent(e.target.value)} />
          <button disabled={busy}>Transfer</button>
        </form>
      )}
    </div>
  );
}

function ReplyBox({ conv, onSent }: { conv: Conv; onSent: () => void }) {
  const { api, session, toast } = useApp();
  const now = useNow(api);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [templates, setTemplates] = useState<any[] | null>(null);
  const [tpl, setTpl] = useState('');
  const [params, setParams] = useState<string[]>([]);
  const key = useRef(idempotencyKey('reply'));
  const windowOpen = conv.window.open && (conv.window.expires_at == null || conv.window.expires_at > now);
  const canReply =
    (conv.owner === session.user && hasRole(session, 'agent', 'lead')) ||
    (hasRole(session, 'lead') && ['assigned', 'awaiting_customer'].includes(conv.state));

  useEffect(() => {
    if (windowOpen || !canReply) return;
    api
      .read(`/api/conversations/${encodeURIComponent(conv.id)}/templates`)
      .then((r) => setTemplates(r.templates ?? []))
      .catch((e) => toast(e.message, 'error'));
  }, [windowOpen, canReply, conv.id, api, toast]);

  if (!canReply) {
    return (
      <div className="reply-box muted" data-testid="reply-disabled">
        {conv.state === 'awaiting_agent'
          ? 'Accept the conversation to reply.'
          : conv.owner
            ? `Owned by ${conv.owner}.`
            : 'The bot is handling this conversation.'}
      </div>
    );
  }
  const send = async (content: any) => {
    setBusy(true);
    try {
      await api.post(`/api/conversations/${encodeURIComponent(conv.id)}/reply`, {
        idempotency_key: key.current,
        ...content,
      });
      key.current = idempotencyKey('reply');
      setText('');
      api.invalidate('/api/');
      onSent();
    } catch (e: any) {
      if (e instanceof ApiError && e.body?.templates) setTemplates(e.body.templates);
      toast(e.message, 'error');
    } finally {
      setBusy(false);
    }
  };
  if (!windowOpen) {
    const chosen = templates?.find((t) => `${t.name}/${t.language}` === tpl);
    const nVars = chosen ? countVars(chosen) : 0;
    return (
      <form
        className="reply-box template-mode"
        data-testid="template-mode"
        onSubmit={(e) => {
          e.preventDefault();
          if (!chosen) return;
          const components = nVars
            ? [{ type: 'body', parameters: params.slice(0, nVars).map((p) => ({ type: 'text', text: p })) }]
            : [];
          send({ type: 'template', name: chosen.name, language: chosen.language, components });
        }}
      >
        <div className="muted">The 24-hour window is closed: only an approved template can be sent.</div>
        {templates === null ? (
          <div>Loading templates…</div>
        ) : templates.length === 0 ? (
          <div>No approved template fits. Create one under Templates.</div>
        ) : (
          <>
            <select aria-label="Template" value={tpl} onChange={(e) => setTpl(e.target.value)} required>
              <option value="">Choose a template…</option>
              {templates.map((t) => (
                <option key={`${t.name}/${t.language}`} value={`${t.name}/${t.language}`}>
                  {t.name} ({t.language}) {t.category ?? ''}
                </option>
              ))}
            </select>
            {chosen && <div className="tpl-preview">{templateText(chosen)}</div>}
            {Array.from({ length: nVars }, (_, i) => (
              <input
                key={i}
                aria-label={`Variable ${i + 1}`}
                placeholder={`{{${i + 1}}}`}
                value={params[i] ?? ''}
                onChange={(e) => {
                  const p = [...params];
                  p[i] = e.target.value;
                  setParams(p);
                }}
                required
              />
            ))}
            <button className="primary" disabled={busy || !chosen}>
              Send template
            </button>
          </>
        )}
      </form>
    );
  }
  return (
    <form
      className="reply-box"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) send({ type: 'text', body: text });
      }}
    >
      <textarea
        aria-label="Reply"
        placeholder="Write a reply…  (Ctrl+Enter sends)"
        value={text}
        rows={2}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            if (text.trim()) send({ type: 'text', body: text });
          }
        }}
      />
      <button className="primary" disabled={busy || !text.trim()}>
        Send
      </button>
    </form>
  );
}

function templateText(t: any): string {
  const body = (t.components ?? t.definition?.components ?? []).find((c: any) => (c.type ?? '').toUpperCase() === 'BODY');
  return body?.text ?? t.body ?? '';
}

function countVars(t: any): number {
  const m = templateText(t).match(/\{\{\s*\d+\s*\}\}/g);
  return m ? new Set(m.map((x) => x.replace(/\D/g, ''))).size : 0;
}

export default function Conversation({ id }: { id: string }) {
  const { api, navigate } = useApp();
  const now = useNow(api);
  const enc = encodeURIComponent(id);
  const poll = usePoll<Bundle>(
    async () => {
      const [c, msgs, ctx] = await Promise.all([
        api.get<Conv>(`/api/conversations/${enc}`),
        allMessages(api, id),
        api.get<any>(`/api/conversations/${enc}/context`),
      ]);
      if (!c.changed && !msgs.changed && !ctx.changed) return undefined;
      return { conv: c.data, messages: msgs.items, context: ctx.data };
    },
    [id],
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === 'Escape' && !(t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT'))) {
        if (!document.querySelector('.modal')) navigate('/');
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [navigate]);

  const b = poll.data;
  if (!b) {
    return (
      <div className="conversation">
        <button className="link" onClick={() => navigate('/')}>
          ← Inbox
        </button>
        <ErrorLine error={poll.error} />
        {!poll.error && <div className="empty">Loading…</div>}
      </div>
    );
  }
  const c = b.conv;
  const sla = b.context?.sla ?? c.sla;
  return (
    <div className="conversation" data-testid="conversation" data-state={c.state}>
      <header className="conv-head">
        <button className="link" onClick={() => navigate('/')} aria-label="Back to inbox">
          ←
        </button>
        <div className="conv-title">
          <h2>{contactName(c)}</h2>
          <span className="muted">{c.contact.phone ? `+${c.contact.phone}` : c.contact_id}</span>
        </div>
        <dl className="conv-facts">
          <div>
            <dt>State</dt>
            <dd>
              <StateChip state={c.state} />
            </dd>
          </div>
          <div>
            <dt>Owner</dt>
            <dd data-testid="owner">{c.owner ?? '—'}</dd>
          </div>
          <div>
            <dt>Queue</dt>
            <dd>{c.queue ?? '—'}</dd>
          </div>
          <div>
            <dt>Urgency</dt>
            <dd className={`u-${c.urgency}`}>{c.urgency ?? '—'}</dd>
          </div>
          <div>
            <dt>Window</dt>
            <dd>
              <WindowTimer window={c.window} now={now} />
            </dd>
          </div>
          <div>
            <dt>SLA</dt>
            <dd>
              <SlaTimer sla={sla} now={now} />
            </dd>
          </div>
        </dl>
        <Tags c={c} />
      </header>
      <ErrorLine error={poll.error} />
      <Actions conv={c} onDone={poll.refresh} />
      <div className="conv-body">
        <div className="conv-main">
          <Thread messages={b.messages} media={b.context?.media ?? []} />
          <ReplyBox conv={c} onSent={poll.refresh} />
        </div>
        <ContextPanel ctx={b.context} />
      </div>
    </div>
  );
}
