// Plain SVG charts: horizontal bars for rates, lines for daily counts.

export interface Bar {
  label: string;
  value: number | null;
  /** Shown at the bar's end. */
  text: string;
  /** Optional band where the value is healthy, drawn behind the bar (0..max). */
  band?: [number, number];
}

export function BarChart({ bars, max = 1, title }: { bars: Bar[]; max?: number; title: string }) {
  const rowH = 24;
  const labelW = 170;
  const w = 520;
  const plotW = w - labelW - 60;
  const h = bars.length * rowH + 8;
  return (
    <svg className="chart" viewBox={`0 0 ${w} ${h}`} width="100%" role="img" aria-label={title}>
      <title>{title}</title>
      {bars.map((b, i) => {
        const y = i * rowH + 4;
        const v = b.value == null ? 0 : Math.max(0, Math.min(max, b.value));
        return (
          <g key={b.label} data-testid="bar">
            <text x={labelW - 8} y={y + 15} textAnchor="end" className="c-label">
              {b.label}
            </text>
            <rect x={labelW} y={y + 3} width={plotW} height={rowH - 8} className="c-track" />
            {b.band && (
              <rect
                x={labelW + (b.band[0] / max) * plotW}
                y={y + 3}
                width={((b.band[1] - b.band[0]) / max) * plotW}
                height={rowH - 8}
                className="c-band"
              />
            )}
            {b.value != null && <rect x={labelW} y={y + 5} width={(v / max) * plotW} height={rowH - 12} className="c-bar" />}
            <text x={labelW + plotW + 6} y={y + 15} className="c-value">
              {b.text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export interface Series {
  name: string;
  values: number[];
}

const COLOURS = ['#2563eb', '#16a34a', '#d97706', '#dc2626', '#7c3aed', '#0891b2'];

export function LineChart({ labels, series, title }: { labels: string[]; series: Series[]; title: string }) {
  const w = 560;
  const h = 220;
  const pad = { l: 40, r: 24, t: 10, b: 28 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const maxY = Math.max(1, ...series.flatMap((s) => s.values));
  const nice = Math.pow(10, Math.floor(Math.log10(maxY)));
  const top = Math.ceil(maxY / nice) * nice;
  const x = (i: number) => pad.l + (labels.length <= 1 ? pw / 2 : (i / (labels.length - 1)) * pw);
  const y = (v: number) => pad.t + ph - (v / top) * ph;
  const ticks = [0, top / 2, top];
  const every = Math.max(1, Math.ceil(labels.length / 7));
  return (
    <figure className="chart-fig">
      <svg className="chart" viewBox={`0 0 ${w} ${h}`} width="100%" role="img" aria-label={title}>
        <title>{title}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={w - pad.r} y1={y(t)} y2={y(t)} className="c-grid" />
            <text x={pad.l - 4} y={y(t) + 4} textAnchor="end" className="c-axis">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {labels.map((l, i) =>
          i % every === 0 || i === labels.length - 1 ? (
            <text key={i} x={x(i)} y={h - 8} textAnchor="middle" className="c-axis">
              {l}
            </text>
          ) : null,
        )}
        {series.map((s, si) => (
          <g key={s.name} data-testid="series">
            <polyline
              fill="none"
              stroke={COLOURS[si % COLOURS.length]}
              strokeWidth={2}
              points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
            />
            {s.values.map((v, i) => (
              <circle key={i} cx={x(i)} cy={y(v)} r={2.5} fill={COLOURS[si % COLOURS.length]}>
                <title>{`${s.name} ${labels[i]}: ${v}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        {series.map((s, si) => (
          <span key={s.name}>
            <i style={{ background: COLOURS[si % COLOURS.length] }} /> {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
