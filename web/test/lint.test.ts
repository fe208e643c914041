import { describe, expect, it } from 'vitest';
import { charToUtf16, highlightSegments, placeholders, templatePayload, type Finding } from '../src/lint';

const f = (rule: string, component: string, span: [number, number] | null, severity: 'error' | 'warning' = 'warning'): Finding => ({
  rule,
  severity,
  component,
  span,
  message: rule,
  suggestion: null,
});

describe('highlightSegments', () => {
  it('marks the span of a finding in its component only', () => {
    const text = 'Get a discount today';
    const segs = highlightSegments(text, [f('content.promotional', 'BODY', [6, 14]), f('x', 'HEADER', [0, 3])], 'BODY');
    expect(segs.map((s) => [s.text, s.findings.map((x) => x.rule)])).toEqual([
      ['Get a ', []],
      ['discount', ['content.promotional']],
      [' today', []],
    ]);
  });

  it('maps character offsets to UTF-16 across emoji', () => {
    // The linter counts 🎉 as one character; JavaScript as two code units.
    const text = '🎉 big discount';
    expect(charToUtf16(text).slice(0, 3)).toEqual([0, 2, 3]);
    const segs = highlightSegments(text, [f('content.promotional', 'BODY', [6, 14])], 'BODY');
    expect(segs.find((s) => s.findings.length)!.text).toBe('discount');
  });

  it('splits overlapping findings into pieces carrying both', () => {
    const segs = highlightSegments('abcdefgh', [f('a', 'BODY', [0, 5]), f('b', 'BODY', [3, 8], 'error')], 'BODY');
    expect(segs.map((s) => [s.text, s.findings.map((x) => x.rule).join('+')])).toEqual([
      ['abc', 'a'],
      ['de', 'a+b'],
      ['fgh', 'b'],
    ]);
  });

  it('clamps spans past the end and ignores findings without a span', () => {
    const segs = highlightSegments('abc', [f('a', 'BODY', [1, 99]), f('n', 'BODY', null)], 'BODY');
    expect(segs.map((s) => s.text)).toEqual(['a', 'bc']);
    expect(highlightSegments('', [], 'BODY')).toEqual([{ text: '', findings: [], start: 0, end: 0 }]);
  });
});

describe('templatePayload', () => {
  it('builds Meta create payload with examples for each variable', () => {
    const p = templatePayload({
      name: 'n',
      language: 'en_US',
      category: 'UTILITY',
      header: '',
      body: 'Hi {{1}}, order {{2}} {{1}}',
      footer: 'bye',
      buttons: ['Track', ''],
      examples: ['Ana'],
    });
    expect(p.components).toEqual([
      { type: 'BODY', text: 'Hi {{1}}, order {{2}} {{1}}', example: { body_text: [['Ana', 'example 2']] } },
      { type: 'FOOTER', text: 'bye' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Track' }] },
    ]);
    expect(placeholders('{{ 1 }} {{name}} {{1}}')).toEqual(['1', 'name']);
  });
});
