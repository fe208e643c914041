import { useState } from 'react';
import { hasRole } from '../api';
import { ErrorLine } from '../components/bits';
import { clockTime } from '../format';
import { useApp, usePoll } from '../hooks';

interface Step {
  step: string;
  title: string;
  status: string;
  owner: string;
  order: number;
  eta_at?: number;
  eta_text?: string;
  started_at?: number;
  finished_at?: number;
  attempts?: number;
  error?: any;
  last_error?: any;
  note?: string;
  evidence?: any;
  actions: string[];
}

function StepActions({ step, onDone }: { step: Step; onDone: () => void }) {
  const { api, toast } = useApp();
  const [code, setCode] = useState('');
  const [evidence, setEvidence] = useState('');
  const run = async (action: string, body: any) => {
    try {
      await api.post(`/api/onboarding/${encodeURIComponent(step.step)}/${action}`, body);
      api.invalidate('/api/onboarding');
      onDone();
    } catch (e: any) {
      toast(e.message, 'error');
    }
  };
  return (
    <div className="step-actions">
      {step.actions.includes('complete') &&
        (step.step === 'verify_code' ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              run('complete', { code });
            }}
          >
            <input aria-label="Verification code" placeholder="SMS code" value={code} onChange={(e) => setCode(e.target.value)} required />
            <button className="primary">Complete</button>
          </form>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              run('complete', { evidence: evidence || 'confirmed in the console' });
            }}
          >
            <input aria-label={`Evidence for ${step.title}`} placeholder="evidence (reference, link)" value={evidence} onChange={(e) => setEvidence(e.target.value)} />
            <button className="primary">Mark complete</button>
          </form>
        ))}
      {step.actions.includes('retry') && <button onClick={() => run('retry', {})}>Retry</button>}
    </div>
  );
}

export default function Onboarding() {
  const { api, session, toast } = useApp();
  const poll = usePoll<any>(async () => {
    const r = await api.get('/api/onboarding');
    return r.changed ? r.data : undefined;
  }, []);
  const [form, setForm] = useState({ phone_number_id: '110000000000001', waba_id: '109876543210987', display_name: 'Switchboard Demo' });
  const isAdmin = hasRole(session, 'admin', 'lead');
  const d = poll.data;
  const steps: Step[] = [...(d?.steps ?? [])].sort((a: Step, b: Step) => a.order - b.order);
  const start = async () => {
    try {
      await api.post('/api/onboarding/start', form);
      api.invalidate('/api/onboarding');
      poll.refresh();
    } catch (e: any) {
      toast(e.message, 'error');
    }
  };
  return (
    <div className="page onboarding">
      <h1>Onboarding</h1>
      <ErrorLine error={poll.error} />
      {d?.execution && (
        <p>
          Execution <code>{d.execution.name}</code> — <b>{d.execution.status}</b> since {clockTime(d.execution.started_at)}
          {d.execution.error && <span className="t-breached"> {String(d.execution.error)}</span>}
        </p>
      )}
      {d && steps.length === 0 && (
        <div className="card">
          <p>Onboarding has not started for tenant {d.tenant}.</p>
          {isAdmin ? (
            <form
              className="toolbar wrap"
              onSubmit={(e) => {
                e.preventDefault();
                start();
              }}
            >
              {(['phone_number_id', 'waba_id', 'display_name'] as const).map((k) => (
                <label key={k} className="inline">
                  {k.replace(/_/g, ' ')}
                  <input aria-label={k} value={form[k]} onChange={(e) => setForm({ ...form, [k]: e.target.value })} />
                </label>
              ))}
              <button className="primary">Start onboarding</button>
            </form>
          ) : (
            <p className="muted">An admin or lead starts it.</p>
          )}
        </div>
      )}
      {steps.length > 0 && (
        <ol className="checklist">
          {steps.map((s) => {
            const err = s.error ?? s.last_error;
            return (
              <li key={s.step} className={`step st-${s.status}`} data-testid="onboarding-step" data-step={s.step}>
                <div className="step-status" aria-label={s.status}>
                  {s.status === 'done' ? '✓' : s.status === 'failed' ? '✗' : s.status === 'running' ? '…' : s.status === 'waiting_on_business' ? '⏸' : '○'}
                </div>
                <div className="step-body">
                  <div>
                    <b>{s.title}</b> <span className="chip">{s.status.replace(/_/g, ' ')}</span>{' '}
                    <span className="muted small">owner: {s.owner}</span>
                  </div>
                  <div className="muted small">
                    ETA {s.eta_text ?? '—'}
                    {s.eta_at ? ` (by ${clockTime(s.eta_at)})` : ''}
                    {s.attempts ? ` · ${s.attempts} attempt${s.attempts > 1 ? 's' : ''}` : ''}
                    {s.finished_at ? ` · finished ${clockTime(s.finished_at)}` : ''}
                  </div>
                  {s.note && <div className="small">{s.note}</div>}
                  {err && <div className="t-breached small">Last error: {typeof err === 'string' ? err : JSON.stringify(err)}</div>}
                  {s.evidence && (
                    <div className="muted small">
                      Evidence:{' '}
                      {typeof s.evidence === 'string'
                        ? s.evidence
                        : Object.entries(s.evidence)
                            .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
                            .join(' · ')}
                    </div>
                  )}
                  {isAdmin && s.actions.length > 0 && <StepActions step={s} onDone={poll.refresh} />}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
