// The customer simulator's model: what a message the business sent looks like on the phone.
// Input is the exact body POSTed to Meta's /messages (recorded by the demo's Graph fake).

export interface Choice {
  id: string;
  title: string;
  description?: string;
}

export interface PhoneMessage {
  kind: 'text' | 'interactive' | 'template' | 'media' | 'other';
  text: string;
  header?: string;
  footer?: string;
  /** Reply buttons (≤ 3), shown under the bubble. */
  buttons: Choice[];
  /** A list message: the button that opens it and its rows. */
  listButton?: string;
  rows: Choice[];
  /** For a template: its name and language. */
  template?: { name: string; language: string; params: string[] };
}

export function phoneMessage(body: any): PhoneMessage {
  const base: PhoneMessage = { kind: 'other', text: '', buttons: [], rows: [] };
  if (!body || typeof body !== 'object') return base;
  switch (body.type) {
    case 'text':
      return { ...base, kind: 'text', text: body.text?.body ?? '' };
    case 'interactive': {
      const i = body.interactive ?? {};
      const buttons: Choice[] = (i.action?.buttons ?? [])
        .map((b: any) => ({ id: b.reply?.id ?? b.id ?? '', title: b.reply?.title ?? b.title ?? '' }))
        .filter((b: Choice) => b.id && b.title);
      const rows: Choice[] = (i.action?.sections ?? []).flatMap((s: any) =>
        (s.rows ?? []).map((r: any) => ({ id: r.id, title: r.title, description: r.description })),
      );
      return {
        ...base,
        kind: 'interactive',
        text: i.body?.text ?? '',
        header: typeof i.header?.text === 'string' ? i.header.text : undefined,
        footer: i.footer?.text,
        buttons,
        rows,
        listButton: i.type === 'list' ? (i.action?.button ?? 'Options') : undefined,
      };
    }
    case 'template': {
      const t = body.template ?? {};
      const params: string[] = (t.components ?? []).flatMap((c: any) =>
        (c.parameters ?? []).map((p: any) => p.text ?? p[p.type]?.text ?? p.type),
      );
      return {
        ...base,
        kind: 'template',
        text: params.length ? params.join(' · ') : '',
        template: { name: t.name ?? '?', language: t.language?.code ?? t.language ?? '', params },
      };
    }
    case 'image':
    case 'document':
    case 'video':
    case 'audio':
      return { ...base, kind: 'media', text: body[body.type]?.caption ?? `[${body.type}]` };
    default:
      return { ...base, text: `[${body.type ?? 'message'}]` };
  }
}

const FIRST = ['Ana', 'Bruno', 'Chen', 'Dara', 'Eli', 'Fatima', 'Gus', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lina', 'Mateo', 'Nia', 'Omar', 'Priya'];

/** A fresh simulated customer: a 555 number (never a real one) and a first name. */
export function randomCustomer(rand: () => number = Math.random): { from: string; name: string } {
  const digits = Array.from({ length: 7 }, () => Math.floor(rand() * 10)).join('');
  return { from: `1555${digits}`, name: FIRST[Math.floor(rand() * FIRST.length)] };
}
