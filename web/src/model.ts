// The API's shapes (see shared/app/src/queries.rs) and the inbox's client-side filtering.

import type { SlaLike, WindowLike } from './format';

export interface ContactView {
  phone: string | null;
  bsuid: string | null;
  username: string | null;
  profile_name: string | null;
}

export interface Conversation {
  id: string;
  state: string;
  contact_id: string;
  contact: ContactView;
  phone_number_id?: string | null;
  owner: string | null;
  last_activity: number;
  last_message_preview: string | null;
  last_message_type: string | null;
  message_count: number;
  created_at: number | null;
  window: WindowLike;
  queue: string | null;
  urgency: string | null;
  language: string | null;
  last_intent: string | null;
  needs_review: boolean;
  last_triage: {
    intent?: string | null;
    confidence?: number | null;
    modality?: string | null;
    urgency?: string | null;
    rule?: string | null;
    risks?: string[] | null;
    approval?: string | null;
    noise?: string | null;
  } | null;
  sla?: SlaLike | null;
}

export interface Message {
  wamid: string;
  direction: 'inbound' | 'outbound' | string;
  type: string;
  timestamp: number;
  received_at?: number | null;
  preview: string | null;
  context_id?: string | null;
  triage?: any;
  raw: any;
  origin?: { kind: string; name?: string } | null;
  template?: any;
}

export interface Listing<T> {
  items: T[];
  next_cursor: string | null;
}

export const STATES = ['bot', 'awaiting_agent', 'assigned', 'awaiting_customer', 'resolved'];

export function contactName(c: Conversation): string {
  return (
    c.contact.profile_name ||
    c.contact.username ||
    (c.contact.phone ? `+${c.contact.phone}` : null) ||
    c.contact.bsuid ||
    c.contact_id
  );
}

export function intentOf(c: Conversation): string | null {
  return c.last_intent ?? c.last_triage?.intent ?? null;
}

export function risksOf(c: Conversation): string[] {
  return (c.last_triage?.risks ?? []).filter(Boolean) as string[];
}

/** The triage tags a row shows and the tag filter offers, as `kind:value`. */
export function tagsOf(c: Conversation): string[] {
  const tags: string[] = [];
  const intent = intentOf(c);
  if (intent) tags.push(`intent:${intent}`);
  if (c.urgency) tags.push(`urgency:${c.urgency}`);
  if (c.language) tags.push(`lang:${c.language}`);
  for (const r of risksOf(c)) tags.push(`risk:${r}`);
  if (c.needs_review) tags.push('needs_review');
  return tags;
}

export interface InboxFilter {
  state: string;
  queue: string;
  tag: string;
  text: string;
}

export const EMPTY_FILTER: InboxFilter = { state: '', queue: '', tag: '', text: '' };

/** Search text of a row, lower-cased once per row and cached. */
const haystacks = new WeakMap<Conversation, string>();
function haystack(c: Conversation): string {
  let h = haystacks.get(c);
  if (h === undefined) {
    h = [
      c.id,
      c.contact.profile_name,
      c.contact.username,
      c.contact.phone,
      c.contact.bsuid,
      c.owner,
      c.queue,
      c.last_message_preview,
      intentOf(c),
    ]
      .filter(Boolean)
      .join('\u0001')
      .toLowerCase();
    haystacks.set(c, h);
  }
  return h;
}

export function filterConversations(rows: Conversation[], f: InboxFilter): Conversation[] {
  const text = f.text.trim().toLowerCase();
  const words = text ? text.split(/\s+/) : [];
  if (!f.state && !f.queue && !f.tag && words.length === 0) return rows;
  return rows.filter((c) => {
    if (f.state && c.state !== f.state) return false;
    if (f.queue && (c.queue ?? '') !== f.queue) return false;
    if (f.tag && !tagsOf(c).includes(f.tag)) return false;
    if (words.length) {
      const h = haystack(c);
      for (const w of words) if (!h.includes(w)) return false;
    }
    return true;
  });
}

/** The distinct values the filter selects offer, with counts, most frequent first. */
export function facets(rows: Conversation[]): {
  states: [string, number][];
  queues: [string, number][];
  tags: [string, number][];
} {
  const st = new Map<string, number>();
  const qu = new Map<string, number>();
  const tg = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const c of rows) {
    inc(st, c.state);
    if (c.queue) inc(qu, c.queue);
    for (const t of tagsOf(c)) inc(tg, t);
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const states = [...STATES, ...[...st.keys()].filter((s) => !STATES.includes(s))].map(
    (s) => [s, st.get(s) ?? 0] as [string, number],
  );
  return { states, queues: sorted(qu), tags: sorted(tg) };
}

export function stateLabel(s: string): string {
  return s.replace(/_/g, ' ');
}
