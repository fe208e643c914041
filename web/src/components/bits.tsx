import type { ReactNode } from 'react';
import { slaCountdown, windowCountdown, type SlaLike, type WindowLike } from '../format';
import { stateLabel, tagsOf, type Conversation } from '../model';

export function StateChip({ state }: { state: string }) {
  return (
    <span className={`chip state-${state}`} data-testid="state-chip">
      {stateLabel(state)}
    </span>
  );
}

export function SlaTimer({ sla, now }: { sla: SlaLike | null | undefined; now: number }) {
  const c = slaCountdown(sla, now);
  return (
    <span className={`timer t-${c.status}`} title={c.title} aria-label={`SLA ${c.title}`} data-testid="sla-timer">
      {c.status === 'none' ? '—' : `⏱ ${c.text}`}
    </span>
  );
}

export function WindowTimer({ window: w, now }: { window: WindowLike | null | undefined; now: number }) {
  const c = windowCountdown(w, now);
  return (
    <span className={`timer w-${c.status}`} title={c.title} aria-label={c.title} data-testid="window-timer">
      {c.text === 'closed' ? 'closed' : `◷ ${c.text}`}
    </span>
  );
}

export function Tag({ tag }: { tag: string }) {
  const [kind, value] = tag.includes(':') ? tag.split(/:(.*)/s) : [tag, ''];
  const label = value || kind.replace(/_/g, ' ');
  return (
    <span className={`tag tag-${kind} ${kind === 'urgency' ? `u-${value}` : ''}`} data-tag={tag} title={tag}>
      {kind === 'lang' ? label.toUpperCase() : label.replace(/_/g, ' ')}
    </span>
  );
}

export function Tags({ c }: { c: Conversation }) {
  return (
    <span className="tags" data-testid="triage-tags">
      {tagsOf(c).map((t) => (
        <Tag key={t} tag={t} />
      ))}
    </span>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function ErrorLine({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <div className="error-line" role="alert">
      {error}
    </div>
  );
}
