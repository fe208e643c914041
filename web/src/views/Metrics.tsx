import { useEffect, useRef, useState } from 'react';
import { BarChart, LineChart, type Bar } from '../components/charts';
import { ErrorLine } from '../components/bits';
import { duration, pct } from '../format';
import { useApp, usePoll } from '../hooks';

const RATES: [string, string, [number, number]?][] = [
  ['handoff_rate', 'Handoff rate', [0.02, 0.4]],
  ['deflection_rate', 'Deflection rate'],
  ['nlu_abstain_rate', 'NLU abstain rate'],
  ['structured_share', 'Structured (buttons) share'],
  ['noise_filtered_pct', 'Noise filtered'],
  ['auto_closure_rate', 'Auto-closure rate'],
  ['reopen_rate', 'Reopen rate'],
  ['opt_out_rate', 'Opt-out rate'],
  ['delivery_rate', 'Delivery rate'],
  ['read_rate', 'Read rate'],
  ['first_response_sla_adherence', 'First-response SLA met'],
  ['next_response_sla_adherence', 'Next-response SLA met'],
  ['template_rejection_rate', 'Template rejection rate'],
];

const COUNTERS: [string, string][] = [
  ['inbound_messages', 'Inbound messages'],
  ['sessions_opened', 'Sessions'],
  ['handoffs', 'Handoffs'],
  ['nlu_abstained', 'NLU abstained'],
];

const DAY = 86400;

interface Data {
  report: any;
  diagnostic: any;
}

interface Day {
  label: string;
  counters: Record<string, number> | null;
}

/** Per-day counters for the line chart: one report per day, two at a time, filled in as they come. */
function useDaily(days: number): Day[] {
  const { api } = useApp();
  const [series, setSeries] = useState<Day[]>([]);
  useEffect(() => {
    let alive = true;
    const now = Math.floor(api.serverNow());
    const from = Math.floor(now / DAY) * DAY - (days - 1) * DAY;
    const out: Day[] = Array.from({ length: days }, (_, i) => ({
      label: new Date((from + i * DAY) * 1000).toISOString().slice(5, 10),
      counters: null,
    }));
    setSeries(out);
    let next = days - 1; // newest first: the recent days matter most
    const worker = async () => {
      while (alive && next >= 0) {
        const i = next--;
        const r = await api.read(`/api/metrics?from=${from + i * DAY}&to=${from + (i + 1) * DAY}`).catch(() => null);
        if (!alive) return;
        out[i] = { ...out[i], counters: r?.metrics?.counters ?? {} };
        setSeries([...out]);
      }
    };
    worker();
    worker();
    return () => {
      alive = false;
    };
  }, [days, api]);
  return series;
}

export default function Metrics() {
  const { api } = useApp();
  const [days, setDays] = useState(7);
  const lastReport = useRef<Data | null>(null);
  const poll = usePoll<Data>(
    async () => {
      const now = Math.floor(api.serverNow());
      const from = Math.floor(now / DAY) * DAY - (days - 1) * DAY;
      const report = await api.get(`/api/metrics?from=${from}&to=${now + 1}`);
      return report.changed || !lastReport.current ? (lastReport.current = { report: report.data, diagnostic: null }) : undefined;
    },
    [days],
    30_000,
  );
  // The diagnostic scans more (media, 90 days of counters): it arrives on its own.
  const diag = usePoll<any>(async () => (await api.get('/api/diagnostic')).data, [], 60_000);
  const daily = useDaily(days);
  const d = poll.data;
  const m = d?.report?.metrics ?? {};
  const hd = d?.report?.handoff_deflection ?? {};
  const rateOf = (k: string) => m[k] ?? hd[k] ?? null;
  const bars: Bar[] = RATES.map(([k, label, band]) => ({
    label,
    value: rateOf(k),
    text: pct(rateOf(k)),
    band,
  }));
  const mix = Object.entries(d?.report?.escalation_mix ?? {}) as [string, number][];
  return (
    <div className="page metrics">
      <h1>
        Metrics{' '}
        <select aria-label="Period" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          <option value={7}>last 7 days</option>
          <option value={14}>last 14 days</option>
          <option value={30}>last 30 days</option>
        </select>
      </h1>
      <ErrorLine error={poll.error} />
      {!d ? (
        <div className="empty">Loading…</div>
      ) : (
        <div className="metrics-grid">
          <section className="card">
            <h2>Rates</h2>
            <BarChart bars={bars} title="Rates over the period" />
            {m.coverage_warning && <p className="muted small">Coverage warning: {m.coverage_warning.replace(/_/g, ' ')}</p>}
          </section>
          <section className="card">
            <h2>Daily volume</h2>
            <LineChart
              title="Daily counts"
              labels={daily.map((x) => x.label)}
              series={COUNTERS.map(([k, name]) => ({ name, values: daily.map((x) => x.counters?.[k] ?? 0) }))}
            />
            {daily.some((x) => x.counters === null) && <p className="muted small">Loading the daily series…</p>}
            <table className="grid small">
              <tbody>
                {Object.entries(m.counters ?? {}).map(([k, v]) => (
                  <tr key={k}>
                    <td>{k.replace(/_/g, ' ')}</td>
                    <td className="num">{String(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="card">
            <h2>Response times</h2>
            <ul className="kv">
              <li>
                <span className="muted">first response</span> {m.avg_first_response_secs != null ? duration(m.avg_first_response_secs) : '—'}
              </li>
              <li>
                <span className="muted">next response</span> {m.avg_next_response_secs != null ? duration(m.avg_next_response_secs) : '—'}
              </li>
              <li>
                <span className="muted">resolution</span> {m.avg_resolution_secs != null ? duration(m.avg_resolution_secs) : '—'}
              </li>
            </ul>
            {mix.length > 0 && (
              <>
                <h3>Escalations by queue</h3>
                <BarChart bars={mix.map(([q, v]) => ({ label: q, value: v, text: pct(v) }))} title="Escalation mix" />
              </>
            )}
            <p className="muted small">Definitions {d.report.definitions_version}</p>
          </section>
          {diag.data && (
            <section className="card diagnostic" data-testid="diagnostic">
              <h2>
                Diagnostic{' '}
                <span className={`score band-${diag.data.band}`}>
                  {diag.data.score} / {diag.data.out_of ?? 7}
                </span>{' '}
                <span className="muted small">{diag.data.band}</span>
              </h2>
              <p className="muted small">Each “1” is a risk found (lower is better).</p>
              <ol className="questions">
                {(diag.data.questions ?? []).map((q: any) => (
                  <li key={q.id} className={q.score ? 'risk' : ''}>
                    <div>
                      <b>{q.question}</b> <span className="score-dot">{q.score}</span>
                    </div>
                    <div>{q.answer}</div>
                    {q.evidence && (
                      <div className="muted small">
                        {typeof q.evidence === 'string'
                          ? q.evidence
                          : Object.entries(q.evidence)
                              .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
                              .join(' · ')}
                      </div>
                    )}
                  </li>
                ))}
              </ol>
            </section>
          )}
        </div>
      )}
    </div>
  );
}
