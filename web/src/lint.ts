// Template lint: the payload the editor builds, and the mapping of findings onto the text.
//
// The linter reports spans as *character* offsets (Unicode scalar values, end-exclusive) into a
// component's text; JavaScript strings index UTF-16 code units, so an emoji before a finding
// would shift every highlight by one without the conversion below.

export interface Finding {
  rule: string;
  severity: 'error' | 'warning';
  component: string | null;
  span: [number, number] | null;
  message: string;
  suggestion: string | null;
}

export interface LintReport {
  name: string | null;
  category: string | null;
  errors: number;
  warnings: number;
  submittable: boolean;
  findings: Finding[];
}

export interface Segment {
  text: string;
  /** Findings covering this piece of text (empty: plain text). */
  findings: Finding[];
  /** UTF-16 offsets of the piece in the text. */
  start: number;
  end: number;
}

/** UTF-16 offset of each character offset 0..=n of `text`. */
export function charToUtf16(text: string): number[] {
  const map: number[] = [0];
  let u = 0;
  for (const ch of text) {
    u += ch.length;
    map.push(u);
  }
  return map;
}

/**
 * Splits `text` into segments at every finding boundary of `component`, each segment carrying
 * the findings that cover it. Out-of-range spans are clamped; findings without a span are
 * ignored here (the list shows them).
 */
export function highlightSegments(text: string, findings: Finding[], component: string): Segment[] {
  const map = charToUtf16(text);
  const nChars = map.length - 1;
  const spans = findings
    .filter((f) => f.component === component && f.span)
    .map((f) => {
      const s = Math.max(0, Math.min(f.span![0], nChars));
      const e = Math.max(s, Math.min(f.span![1], nChars));
      return { f, s: map[s], e: map[e] };
    })
    .filter((x) => x.e > x.s);
  const cuts = new Set<number>([0, text.length]);
  for (const x of spans) {
    cuts.add(x.s);
    cuts.add(x.e);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i];
    const end = points[i + 1];
    if (end <= start) continue;
    const covering = spans.filter((x) => x.s <= start && x.e >= end).map((x) => x.f);
    const prev = out[out.length - 1];
    if (prev && prev.findings.length === 0 && covering.length === 0) {
      prev.text += text.slice(start, end);
      prev.end = end;
    } else {
      out.push({ text: text.slice(start, end), findings: covering, start, end });
    }
  }
  if (out.length === 0) out.push({ text, findings: [], start: 0, end: text.length });
  return out;
}

export interface TemplateDraft {
  name: string;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  header: string;
  body: string;
  footer: string;
  buttons: string[];
  /** Example values for {{1}}, {{2}}, … (Meta requires examples for every variable). */
  examples: string[];
}

/** The placeholders of a text in order of first appearance: `{{1}}` → `1`, `{{name}}` → `name`. */
export function placeholders(text: string): string[] {
  const seen: string[] = [];
  for (const m of text.matchAll(/\{\{\s*([^{}\s]+)\s*\}\}/g)) {
    if (!seen.includes(m[1])) seen.push(m[1]);
  }
  return seen;
}

/** Meta's create-template payload for the editor's fields. */
export function templatePayload(d: TemplateDraft): any {
  const components: any[] = [];
  if (d.header.trim()) components.push({ type: 'HEADER', format: 'TEXT', text: d.header });
  const body: any = { type: 'BODY', text: d.body };
  const vars = placeholders(d.body);
  if (vars.length) {
    body.example = { body_text: [vars.map((_, i) => d.examples[i] || `example ${i + 1}`)] };
  }
  components.push(body);
  if (d.footer.trim()) components.push({ type: 'FOOTER', text: d.footer });
  const buttons = d.buttons.filter((b) => b.trim());
  if (buttons.length) {
    components.push({
      type: 'BUTTONS',
      buttons: buttons.map((text) => ({ type: 'QUICK_REPLY', text })),
    });
  }
  return { name: d.name, language: d.language, category: d.category, components };
}
