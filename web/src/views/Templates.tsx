import { useEffect, useRef, useState } from 'react';
import { hasRole } from '../api';
import { ErrorLine } from '../components/bits';
import { useApp, useDebounced } from '../hooks';
import {
  highlightSegments,
  placeholders,
  templatePayload,
  type Finding,
  type LintReport,
  type TemplateDraft,
} from '../lint';

type Category = TemplateDraft['category'];
const CATEGORIES: Category[] = ['MARKETING', 'UTILITY', 'AUTHENTICATION'];

const SAMPLES: Record<Category, TemplateDraft> = {
  UTILITY: {
    name: 'order_update',
    language: 'en_US',
    category: 'UTILITY',
    header: '',
    body: 'Hi {{1}}, your order {{2}} has shipped and will arrive on {{3}}.',
    footer: '',
    buttons: ['Track order'],
    examples: ['Ana', '#4471', 'Friday'],
  },
  MARKETING: {
    name: 'spring_sale',
    language: 'en_US',
    category: 'MARKETING',
    header: 'Spring sale',
    body: 'Hi {{1}}, enjoy 20% off everything this week. Reply STOP to opt out.',
    footer: 'Not interested? Tap Stop promotions',
    buttons: ['Shop now', 'Stop promotions'],
    examples: ['Ana'],
  },
  AUTHENTICATION: {
    name: 'login_code',
    language: 'en_US',
    category: 'AUTHENTICATION',
    header: '',
    body: '{{1}} is your verification code.',
    footer: '',
    buttons: [],
    examples: ['123456'],
  },
};

let saved: Record<Category, TemplateDraft> = { ...SAMPLES };
let savedTab: Category = 'UTILITY';

/**
 * A text field with the lint findings of its component highlighted in place: the text is drawn
 * twice, once in a backdrop with <mark>s and once in a transparent textarea on top of it.
 */
export function HighlightedField({
  label,
  value,
  onChange,
  findings,
  component,
  rows = 1,
  maxLength,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  findings: Finding[];
  component: string;
  rows?: number;
  maxLength?: number;
}) {
  const back = useRef<HTMLDivElement>(null);
  const segs = highlightSegments(value, findings, component);
  return (
    <label className="hl-label">
      <span>
        {label}
        {maxLength && (
          <span className={`muted small ${[...value].length > maxLength ? 't-breached' : ''}`}>
            {' '}
            {[...value].length}/{maxLength}
          </span>
        )}
      </span>
      <div className={`hl ${rows > 1 ? 'multi' : 'single'}`} data-component={component}>
        <div className="hl-back" ref={back} aria-hidden="true" data-testid={`highlights-${component}`}>
          {segs.map((s, i) =>
            s.findings.length ? (
              <mark
                key={i}
                className={`hl-mark sev-${s.findings.some((f) => f.severity === 'error') ? 'error' : 'warning'}`}
                data-rule={s.findings.map((f) => f.rule).join(' ')}
                title={s.findings.map((f) => `${f.rule}: ${f.message}`).join('\n')}
              >
                {s.text}
              </mark>
            ) : (
              <span key={i}>{s.text}</span>
            ),
          )}
          {'\u200b'}
        </div>
        <textarea
          aria-label={label}
          rows={rows}
          value={value}
          spellCheck={false}
          onChange={(e) => onChange(rows > 1 ? e.target.value : e.target.value.replace(/\n/g, ' '))}
          onScroll={(e) => {
            if (back.current) back.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop;
          }}
        />
      </div>
    </label>
  );
}

export default function Templates() {
  const { api, session, toast } = useApp();
  const [tab, setTabState] = useState<Category>(savedTab);
  const [draft, setDraftState] = useState<TemplateDraft>(saved[savedTab]);
  const [report, setReport] = useState<LintReport | null>(null);
  const [lintError, setLintError] = useState<string | null>(null);
  const [linting, setLinting] = useState(false);
  const [version, setVersion] = useState<any>(null);
  const [history, setHistory] = useState<any>(null);
  const seq = useRef(0);

  const setDraft = (d: TemplateDraft) => {
    saved = { ...saved, [d.category]: d };
    setDraftState(d);
  };
  const setTab = (c: Category) => {
    savedTab = c;
    setTabState(c);
    setDraftState(saved[c]);
    setVersion(null);
  };

  const payload = templatePayload(draft);
  const body = JSON.stringify(payload);
  const debounced = useDebounced(body, 150);

  useEffect(() => {
    const n = ++seq.current;
    setLinting(true);
    api
      .post<LintReport>('/api/templates/lint', debounced)
      .then((r) => {
        if (n !== seq.current) return; // a newer keystroke's answer wins
        setReport(r);
        setLintError(null);
      })
      .catch((e) => n === seq.current && setLintError(e.message))
      .finally(() => n === seq.current && setLinting(false));
  }, [debounced, api]);

  // The last answer's findings stay on screen while the next keystroke's lint is in flight.
  const current = report?.findings ?? [];
  const vars = placeholders(draft.body);
  const field = (k: keyof TemplateDraft) => (v: any) => setDraft({ ...draft, [k]: v });

  const loadHistory = async (name: string) => {
    try {
      setHistory(await api.read(`/api/templates/${encodeURIComponent(name)}`));
    } catch {
      setHistory(null);
    }
  };
  const saveDraft = async () => {
    try {
      const v = await api.post('/api/templates/drafts', payload);
      setVersion(v);
      toast(`Saved ${v.name} (${v.language}) version ${v.version}`);
      loadHistory(v.name);
    } catch (e: any) {
      toast(e.message, 'error');
    }
  };
  const versionAction = async (action: 'approve' | 'submit') => {
    if (!version) return;
    try {
      const r = await api.post(
        `/api/templates/${encodeURIComponent(version.name)}/${encodeURIComponent(version.language)}/versions/${version.version}/${action}`,
      );
      toast(action === 'approve' ? 'Approved' : 'Submitted to Meta');
      setVersion({ ...version, status: r?.status ?? action });
      loadHistory(version.name);
    } catch (e: any) {
      toast(e.message, 'error');
    }
  };
  const canAuthor = hasRole(session, 'agent', 'lead', 'admin');
  const canApprove = hasRole(session, 'approver', 'admin');

  return (
    <div className="page templates">
      <h1>Templates</h1>
      <div className="tabs" role="tablist" aria-label="Category">
        {CATEGORIES.map((c) => (
          <button key={c} role="tab" aria-selected={tab === c} className={tab === c ? 'on' : ''} onClick={() => setTab(c)}>
            {c}
          </button>
        ))}
      </div>
      <div className="tpl-layout">
        <div className="tpl-form" role="tabpanel" aria-label={`${tab} template`}>
          <div className="row2">
            <label>
              Name
              <input aria-label="Template name" value={draft.name} onChange={(e) => field('name')(e.target.value)} />
            </label>
            <label>
              Language
              <input aria-label="Language" value={draft.language} onChange={(e) => field('language')(e.target.value)} />
            </label>
          </div>
          <HighlightedField label="Header" value={draft.header} onChange={field('header')} findings={current} component="HEADER" maxLength={60} />
          <HighlightedField label="Body" value={draft.body} onChange={field('body')} findings={current} component="BODY" rows={6} maxLength={1024} />
          {vars.length > 0 && (
            <fieldset className="examples">
              <legend>Examples for the variables</legend>
              {vars.map((v, i) => (
                <label key={v}>
                  {`{{${v}}}`}
                  <input
                    aria-label={`Example ${v}`}
                    value={draft.examples[i] ?? ''}
                    onChange={(e) => {
                      const ex = [...draft.examples];
                      ex[i] = e.target.value;
                      field('examples')(ex);
                    }}
                  />
                </label>
              ))}
            </fieldset>
          )}
          <HighlightedField label="Footer" value={draft.footer} onChange={field('footer')} findings={current} component="FOOTER" maxLength={60} />
          <fieldset className="buttons">
            <legend>Quick-reply buttons</legend>
            {[0, 1, 2].map((i) => (
              <input
                key={i}
                aria-label={`Button ${i + 1}`}
                placeholder={`Button ${i + 1}`}
                value={draft.buttons[i] ?? ''}
                className={current.some((f) => f.component === `BUTTONS[${i}]`) ? 'has-finding' : ''}
                onChange={(e) => {
                  const b = [...draft.buttons];
                  b[i] = e.target.value;
                  field('buttons')(b);
                }}
              />
            ))}
          </fieldset>
          <div className="actions">
            {canAuthor && (
              <button className="primary" onClick={saveDraft}>
                Save draft
              </button>
            )}
            {version && canApprove && <button onClick={() => versionAction('approve')}>Approve v{version.version}</button>}
            {version && canApprove && <button onClick={() => versionAction('submit')}>Submit v{version.version} to Meta</button>}
            <button className="link" onClick={() => setDraft({ ...SAMPLES[tab] })}>
              Reset to sample
            </button>
          </div>
          {version && (
            <div className="muted small" data-testid="saved-version">
              Saved version {version.version} of {version.name} ({version.language}){version.status ? ` — ${version.status}` : ''}
            </div>
          )}
        </div>
        <aside className="tpl-lint" aria-label="Lint findings">
          <h2>
            Lint{' '}
            {report && (
              <span className={report.errors ? 't-breached' : report.warnings ? 't-warning' : 't-ok'} data-testid="lint-summary">
                {report.errors} error{report.errors === 1 ? '' : 's'}, {report.warnings} warning{report.warnings === 1 ? '' : 's'}
                {report.submittable ? ' · submittable' : ' · blocked'}
              </span>
            )}
            {linting && <span className="muted small"> …</span>}
          </h2>
          <ErrorLine error={lintError} />
          <ul className="findings" data-testid="findings">
            {current.map((f, i) => (
              <li key={i} className={`finding sev-${f.severity}`} data-rule={f.rule}>
                <div>
                  <code>{f.rule}</code> <span className="muted">{f.component}</span>
                </div>
                <div>{f.message}</div>
                {f.suggestion && <div className="muted small">→ {f.suggestion}</div>}
              </li>
            ))}
            {report && current.length === 0 && <li className="muted">No findings.</li>}
          </ul>
          {history && (
            <>
              <h2>History of {history.name}</h2>
              <ul className="kv small">
                {(history.languages ?? []).map((l: any, i: number) => (
                  <li key={`l${i}`}>
                    {l.language ?? l.lang} — <b>{l.status}</b> {l.version != null && `v${l.version}`}
                  </li>
                ))}
                {(history.history ?? []).slice(0, 10).map((h: any, i: number) => (
                  <li key={`h${i}`} className="muted">
                    {h.kind} {h.version != null && `v${h.version}`} {h.status ?? ''} {h.reason ?? ''}
                  </li>
                ))}
              </ul>
            </>
          )}
        </aside>
      </div>
    </div>
  );
}
