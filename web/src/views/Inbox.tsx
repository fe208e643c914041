import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { type ApiClient } from '../api';
import { SlaTimer, StateChip, Tags, WindowTimer, ErrorLine } from '../components/bits';
import { VirtualList, type VirtualListHandle } from '../components/VirtualList';
import { relativeTime } from '../format';
import { POLL_MS, useApp, useNow } from '../hooks';
import {
  EMPTY_FILTER,
  contactName,
  facets,
  filterConversations,
  stateLabel,
  type Conversation,
  type InboxFilter,
  type Listing,
} from '../model';

export const ROW_HEIGHT = 58;
const PAGE = 200;
/** Every page is revalidated at least this often (a change deep in the list, e.g. an accept). */
const FULL_EVERY_MS = 10_000;

/**
 * Loads every page of the inbox. The first page is revalidated with its ETag on every poll; the
 * rest when the first changed or every FULL_EVERY_MS. `onPage` sees partial results so the first
 * rows show before the last page arrives. Returns null when nothing changed.
 */
export async function loadInbox(
  api: ApiClient,
  force: boolean,
  onPage?: (rows: Conversation[]) => void,
): Promise<Conversation[] | null> {
  const first = await api.get<Listing<Conversation>>(`/api/conversations?limit=${PAGE}`);
  if (!first.changed && !force) return null;
  let changed = first.changed;
  const rows = [...first.data.items];
  let cursor = first.data.next_cursor;
  if (cursor && onPage) onPage(rows.slice());
  while (cursor) {
    const page = await api.get<Listing<Conversation>>(
      `/api/conversations?limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`,
    );
    changed ||= page.changed;
    rows.push(...page.data.items);
    cursor = page.data.next_cursor;
  }
  return changed ? rows : null;
}

// The inbox keeps its rows and filter across navigation (open a conversation, come back).
let cachedRows: Conversation[] | null = null;
let savedFilter: InboxFilter = EMPTY_FILTER;
let savedSelected = 0;

export function useInboxRows(api: ApiClient) {
  const [rows, setRows] = useState<Conversation[] | null>(cachedRows);
  const [error, setError] = useState<string | null>(null);
  const kick = useRef<() => void>(() => {});
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastFull = 0;
    let running = false;
    const run = async (forceFull = false) => {
      if (timer) clearTimeout(timer);
      if (running) return;
      running = true;
      try {
        if (!forceFull && cachedRows !== null && typeof document !== 'undefined' && document.hidden) return;
        const force = forceFull || cachedRows === null || Date.now() - lastFull > FULL_EVERY_MS;
        // No rows kept (first load, a new sign-in): a 304 would leave nothing to show.
        if (cachedRows === null) api.invalidate('/api/conversations');
        const got = await loadInbox(api, force, (partial) => {
          if (alive && cachedRows === null) setRows(partial);
        });
        if (force) lastFull = Date.now();
        // Each row carries its own `sla` (present while a human is awaited or owns it).
        if (alive && (got || cachedRows === null)) {
          cachedRows = got ?? cachedRows ?? [];
          setRows(cachedRows);
        }
        if (alive) setError(null);
      } catch (e: any) {
        if (alive) setError(e?.message ?? String(e));
      } finally {
        running = false;
        if (alive) timer = setTimeout(() => run(), POLL_MS);
      }
    };
    kick.current = () => run(true);
    run();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [api]);
  return { rows, error, refresh: () => kick.current() };
}

/** Forget the inbox cache (a new login, a test). */
export function resetInboxCache() {
  cachedRows = null;
  savedFilter = EMPTY_FILTER;
  savedSelected = 0;
}

interface RowProps {
  c: Conversation;
  now: number;
  selected: boolean;
  onOpen: (id: string) => void;
  onSelect: () => void;
}

const Row = memo(function Row({ c, now, selected, onOpen, onSelect }: RowProps) {
  const name = contactName(c);
  return (
    <div
      className={`inbox-row ${selected ? 'selected' : ''}`}
      data-testid="inbox-row"
      data-id={c.id}
      data-state={c.state}
      aria-selected={selected}
      onClick={() => {
        onSelect();
        onOpen(c.id);
      }}
    >
      <div className="r-main">
        <div className="r-line1">
          <StateChip state={c.state} />
          <span className="r-name" title={c.contact.phone ? `+${c.contact.phone}` : undefined}>
            {name}
          </span>
          {c.queue && <span className="r-queue">{c.queue}</span>}
          {c.owner && <span className="r-owner">@{c.owner}</span>}
          <Tags c={c} />
        </div>
        <div className="r-preview">{c.last_message_preview ?? <i>({c.last_message_type ?? 'no messages'})</i>}</div>
      </div>
      <div className="r-side">
        <SlaTimer sla={c.sla} now={now} />
        <WindowTimer window={c.window} now={now} />
        <span className="r-time" title={new Date(c.last_activity * 1000).toLocaleString()}>
          {relativeTime(c.last_activity, now)}
        </span>
      </div>
    </div>
  );
});

export function InboxList({
  rows,
  filter,
  selected,
  setSelected,
  onOpen,
  now,
  listRef,
}: {
  rows: Conversation[];
  filter: InboxFilter;
  selected: number;
  setSelected: (i: number) => void;
  onOpen: (id: string) => void;
  now: number;
  listRef?: React.Ref<VirtualListHandle>;
}) {
  const visible = useMemo(() => filterConversations(rows, filter), [rows, filter]);
  const renderRow = useCallback(
    (i: number) => (
      <Row c={visible[i]} now={now} selected={i === selected} onOpen={onOpen} onSelect={() => setSelected(i)} />
    ),
    [visible, now, selected, onOpen, setSelected],
  );
  return (
    <>
      <div className="inbox-count" data-testid="inbox-count" aria-live="polite">
        {visible.length === rows.length
          ? `${rows.length} conversations`
          : `${visible.length} of ${rows.length} conversations`}
      </div>
      {visible.length === 0 ? (
        <div className="empty">No conversations match.</div>
      ) : (
        <VirtualList
          ref={listRef}
          count={visible.length}
          rowHeight={ROW_HEIGHT}
          renderRow={renderRow}
          className="inbox-list"
          label="Conversations"
        />
      )}
    </>
  );
}

const HELP: [string, string][] = [
  ['j / ↓', 'next conversation'],
  ['k / ↑', 'previous conversation'],
  ['Enter', 'open the selected conversation'],
  ['/', 'focus the search box'],
  ['?', 'show or hide this help'],
  ['Esc', 'close help, leave the search box, go back'],
  ['g i / g q / g t', 'go to inbox, queues, templates'],
];

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {HELP.map(([k, v]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button onClick={onClose}>Close</button>
      </div>
    </div>
  );
}

export default function Inbox() {
  const { api, navigate } = useApp();
  const now = useNow(api);
  const { rows, error } = useInboxRows(api);
  const [filter, setFilterState] = useState<InboxFilter>(savedFilter);
  const [selected, setSelectedState] = useState(savedSelected);
  const [help, setHelp] = useState(false);
  const search = useRef<HTMLInputElement>(null);
  const list = useRef<VirtualListHandle>(null);
  const root = useRef<HTMLDivElement>(null);

  const setFilter = useCallback((f: InboxFilter) => {
    savedFilter = f;
    setFilterState(f);
    setSelectedState(0);
    savedSelected = 0;
  }, []);
  const setSelected = useCallback((i: number) => {
    savedSelected = i;
    setSelectedState(i);
  }, []);
  const all = rows ?? [];
  const visible = useMemo(() => filterConversations(all, filter), [all, filter]);
  const fac = useMemo(() => facets(all), [all]);
  const open = useCallback((id: string) => navigate(`/c/${encodeURIComponent(id)}`), [navigate]);

  // Time to interactive: the first rows are on screen and the filter box takes input.
  useLayoutEffect(() => {
    if (rows && rows.length > 0 && root.current && !root.current.dataset.ready) {
      root.current.dataset.ready = 'true';
      try {
        performance.mark('inbox-ready');
      } catch {
        /* old browsers */
      }
    } else if (rows && rows.length === 0 && root.current) {
      root.current.dataset.ready = 'empty';
    }
  }, [rows]);

  useEffect(() => {
    let pendingG = false;
    const onKey = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      const t = e.target as HTMLElement;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (e.key === 'Escape') {
        if (help) setHelp(false);
        else if (typing) t.blur();
        return;
      }
      if (typing) return;
      if (pendingG) {
        pendingG = false;
        const to = { i: '/', q: '/queues', t: '/templates', m: '/media', d: '/metrics' }[e.key];
        if (to) navigate(to);
        return;
      }
      switch (e.key) {
        case 'j':
        case 'ArrowDown': {
          e.preventDefault();
          const n = Math.min(visible.length - 1, selected + 1);
          setSelected(n);
          list.current?.scrollToIndex(n);
          break;
        }
        case 'k':
        case 'ArrowUp': {
          e.preventDefault();
          const n = Math.max(0, selected - 1);
          setSelected(n);
          list.current?.scrollToIndex(n);
          break;
        }
        case 'Enter':
          if (visible[selected]) open(visible[selected].id);
          break;
        case '/':
          e.preventDefault();
          search.current?.focus();
          break;
        case '?':
          setHelp((h) => !h);
          break;
        case 'g':
          pendingG = true;
          break;
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [visible, selected, help, open, navigate, setSelected]);

  return (
    <div className="inbox" ref={root} data-testid="inbox" data-filter-text={filter.text} data-filter-state={filter.state}>
      <div className="toolbar" role="search">
        <input
          ref={search}
          type="search"
          aria-label="Search conversations"
          placeholder="Search name, number, message…  ( / )"
          value={filter.text}
          onChange={(e) => setFilter({ ...filter, text: e.target.value })}
          data-testid="inbox-search"
        />
        <select aria-label="State filter" value={filter.state} onChange={(e) => setFilter({ ...filter, state: e.target.value })}>
          <option value="">All states</option>
          {fac.states.map(([s, n]) => (
            <option key={s} value={s}>
              {stateLabel(s)} ({n})
            </option>
          ))}
        </select>
        <select aria-label="Queue filter" value={filter.queue} onChange={(e) => setFilter({ ...filter, queue: e.target.value })}>
          <option value="">All queues</option>
          {fac.queues.map(([q, n]) => (
            <option key={q} value={q}>
              {q} ({n})
            </option>
          ))}
        </select>
        <select aria-label="Tag filter" value={filter.tag} onChange={(e) => setFilter({ ...filter, tag: e.target.value })}>
          <option value="">All tags</option>
          {fac.tags.map(([t, n]) => (
            <option key={t} value={t}>
              {t.replace(/_/g, ' ')} ({n})
            </option>
          ))}
        </select>
        {(filter.text || filter.state || filter.queue || filter.tag) && (
          <button className="link" onClick={() => setFilter(EMPTY_FILTER)}>
            Clear
          </button>
        )}
        <button className="link help-btn" aria-label="Keyboard shortcuts" onClick={() => setHelp(true)}>
          ?
        </button>
      </div>
      <ErrorLine error={error} />
      {rows === null ? (
        <div className="empty">Loading conversations…</div>
      ) : rows.length === 0 ? (
        <div className="empty" data-testid="inbox-empty">
          No conversations yet. Open the <b>customer simulator</b> (top right) and say hi as a customer.
        </div>
      ) : (
        <InboxList
          rows={all}
          filter={filter}
          selected={selected}
          setSelected={setSelected}
          onOpen={open}
          now={now}
          listRef={list}
        />
      )}
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
    </div>
  );
}
