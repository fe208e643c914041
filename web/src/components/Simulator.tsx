import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api';
import { phoneMessage, randomCustomer, type Choice, type PhoneMessage } from '../sim';

const KEY = 'switchboard.simulator';

interface Bubble {
  id: string;
  mine: boolean;
  at: number;
  text?: string;
  msg?: PhoneMessage;
  pending?: boolean;
  failed?: string;
}

function loadIdentity(): { from: string; name: string } {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    if (v?.from && v?.name) return v;
  } catch {
    /* ignore */
  }
  return randomCustomer();
}

function time(at: number) {
  return new Date(at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function BusinessBubble({ m, onChoose, disabled }: { m: PhoneMessage; onChoose: (c: Choice) => void; disabled?: boolean }) {
  const [listOpen, setListOpen] = useState(false);
  return (
    <div className="sim-biz">
      <div className="sim-bubble theirs">
        {m.header && <div className="sim-header">{m.header}</div>}
        {m.kind === 'template' && (
          <div className="sim-template">
            📋 template <b>{m.template?.name}</b> <span className="muted">{m.template?.language}</span>
          </div>
        )}
        {m.text && <div className="sim-text">{m.text}</div>}
        {m.footer && <div className="sim-footer">{m.footer}</div>}
        {m.listButton && (
          <button
            className="sim-listbtn"
            aria-expanded={listOpen}
            onClick={() => setListOpen((o) => !o)}
            disabled={disabled}
          >
            ☰ {m.listButton}
          </button>
        )}
      </div>
      {m.buttons.length > 0 && (
        <div className="sim-buttons">
          {m.buttons.map((b) => (
            <button key={b.id} className="sim-choice" onClick={() => onChoose(b)} disabled={disabled} data-choice={b.id}>
              {b.title}
            </button>
          ))}
        </div>
      )}
      {m.listButton && listOpen && (
        <div className="sim-sheet" role="listbox" aria-label={m.listButton}>
          {m.rows.map((r) => (
            <button
              key={r.id}
              role="option"
              aria-selected={false}
              className="sim-row"
              data-choice={r.id}
              disabled={disabled}
              onClick={() => {
                setListOpen(false);
                onChoose(r);
              }}
            >
              <span>{r.title}</span>
              {r.description && <small>{r.description}</small>}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

/**
 * A phone in a drawer: type as a customer, tap the bot's buttons, send a sample image, and watch
 * the business's answers (the exact bodies our sender POSTed to the Graph fake).
 */
export default function Simulator({ api, open, onClose }: { api: ApiClient; open: boolean; onClose: () => void }) {
  const [who, setWho] = useState(loadIdentity);
  const [bubbles, setBubbles] = useState<Bubble[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const seen = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    try {
      localStorage.setItem(KEY, JSON.stringify(who));
    } catch {
      /* private mode */
    }
  }, [who]);

  // A new number starts a new chat.
  useEffect(() => {
    seen.current = 0;
    setBubbles([]);
  }, [who.from]);

  useEffect(() => {
    if (!open) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const r = await api.get<{ items: any[] }>(`/api/demo/customer/${encodeURIComponent(who.from)}/messages`);
        if (!alive) return;
        const items = r.data.items ?? [];
        if (items.length > seen.current) {
          const fresh = items.slice(seen.current).map((body, i) => ({
            id: `biz-${seen.current + i}`,
            mine: false,
            at: Date.now(),
            msg: phoneMessage(body),
          }));
          seen.current = items.length;
          setBubbles((b) => [...b, ...fresh]);
        }
        setError(null);
      } catch (e: any) {
        if (alive) setError(e.message);
      }
      if (alive) timer = setTimeout(poll, 1500);
    };
    poll();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [api, who.from, open]);

  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [bubbles.length]);

  const post = async (body: any, label: string) => {
    const id = `me-${Date.now()}-${Math.random()}`;
    setBubbles((b) => [...b, { id, mine: true, at: Date.now(), text: label, pending: true }]);
    try {
      await api.post('/api/demo/customer', { from: who.from, name: who.name, ...body });
      setBubbles((b) => b.map((x) => (x.id === id ? { ...x, pending: false } : x)));
      api.invalidate('/api/conversations');
    } catch (e: any) {
      setBubbles((b) => b.map((x) => (x.id === id ? { ...x, pending: false, failed: e.message } : x)));
    }
  };

  return (
    <aside
      className={`sim-drawer ${open ? 'open' : ''}`}
      aria-label="Customer simulator"
      aria-hidden={!open}
      data-testid="simulator"
      inert={!open ? true : undefined}
    >
      <div className="phone">
        <div className="phone-top">
          <button className="sim-close" aria-label="Close simulator" onClick={onClose}>
            ✕
          </button>
          <div className="phone-biz">
            <b>Switchboard Demo</b>
            <small>business account · simulated</small>
          </div>
        </div>
        <div className="phone-who">
          <label>
            Name
            <input aria-label="Customer name" value={who.name} onChange={(e) => setWho({ ...who, name: e.target.value })} />
          </label>
          <label>
            Number
            <input
              aria-label="Customer number"
              value={who.from}
              onChange={(e) => setWho({ ...who, from: e.target.value.replace(/[^\d]/g, '') })}
            />
          </label>
          <button className="link" title="A new customer" onClick={() => setWho(randomCustomer())}>
            ↻ new
          </button>
        </div>
        <div className="phone-chat" ref={scroller} data-testid="sim-chat">
          {bubbles.length === 0 && (
            <div className="sim-hint">
              You are <b>{who.name}</b> (+{who.from}). Say hi to the business — try “hi”, “where is my order 4471?” or “I
              want to talk to a human”, then watch the inbox.
            </div>
          )}
          {bubbles.map((b) =>
            b.mine ? (
              <div key={b.id} className="sim-me">
                <div className={`sim-bubble mine ${b.failed ? 'failed' : ''}`} title={b.failed}>
                  <span className="sim-text">{b.text}</span>
                  <span className="sim-time">
                    {time(b.at)} {b.pending ? '🕓' : b.failed ? '⚠' : '✓✓'}
                  </span>
                </div>
                {b.failed && <div className="sim-error">{b.failed}</div>}
              </div>
            ) : (
              <BusinessBubble key={b.id} m={b.msg!} onChoose={(c) => post({ reply: { id: c.id, title: [...c.title].slice(0, 20).join('') } }, `▸ ${c.title}`)} />
            ),
          )}
        </div>
        {error && <div className="sim-error">{error}</div>}
        <form
          className="phone-input"
          onSubmit={(e) => {
            e.preventDefault();
            const t = text.trim();
            if (!t) return;
            setText('');
            post({ text: t }, t);
          }}
        >
          <button
            type="button"
            className="sim-attach"
            aria-label="Send a sample image"
            title="Send a sample image"
            onClick={() => {
              const caption = text.trim() || 'my receipt';
              setText('');
              post({ image: { caption } }, `📷 ${caption}`);
            }}
          >
            📷
          </button>
          <input aria-label="Message as customer" placeholder="Message" value={text} onChange={(e) => setText(e.target.value)} />
          <button className="sim-send" aria-label="Send as customer">
            ➤
          </button>
        </form>
      </div>
    </aside>
  );
}
