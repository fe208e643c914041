import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BusinessBubble } from '../src/components/Simulator';
import { phoneMessage, randomCustomer } from '../src/sim';

afterEach(cleanup);

const buttons = {
  messaging_product: 'whatsapp',
  to: '15551230001',
  type: 'interactive',
  interactive: {
    type: 'button',
    body: { text: 'Did that answer your question?' },
    footer: { text: 'Switchboard' },
    action: {
      buttons: [
        { type: 'reply', reply: { id: 'yes', title: 'Yes, thanks' } },
        { type: 'reply', reply: { id: 'intent:talk_to_human', title: 'Talk to a person' } },
      ],
    },
  },
};

const list = {
  messaging_product: 'whatsapp',
  to: '+15551230001',
  type: 'interactive',
  interactive: {
    type: 'list',
    body: { text: 'Hi! What can we help you with today?' },
    action: {
      button: 'Choose',
      sections: [{ title: 'Choose', rows: [{ id: 'intent:order_status', title: 'Track my order' }, { id: 'intent:talk_to_human', title: 'Talk to a person' }] }],
    },
  },
};

describe('phoneMessage', () => {
  it('reads reply buttons', () => {
    const m = phoneMessage(buttons);
    expect(m.kind).toBe('interactive');
    expect(m.text).toBe('Did that answer your question?');
    expect(m.footer).toBe('Switchboard');
    expect(m.buttons).toEqual([
      { id: 'yes', title: 'Yes, thanks' },
      { id: 'intent:talk_to_human', title: 'Talk to a person' },
    ]);
  });
  it('reads list rows', () => {
    const m = phoneMessage(list);
    expect(m.listButton).toBe('Choose');
    expect(m.rows.map((r) => r.id)).toEqual(['intent:order_status', 'intent:talk_to_human']);
  });
  it('reads text and templates', () => {
    expect(phoneMessage({ type: 'text', text: { body: 'hello' } })).toMatchObject({ kind: 'text', text: 'hello' });
    const t = phoneMessage({
      type: 'template',
      template: { name: 'order_update', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] },
    });
    expect(t.template).toEqual({ name: 'order_update', language: 'en_US', params: ['Ana'] });
  });
  it('generates 555 numbers', () => {
    const c = randomCustomer(() => 0.5);
    expect(c.from).toMatch(/^1555\d{7}$/);
    expect(c.name).toBeTruthy();
  });
});

describe('BusinessBubble', () => {
  it('renders reply buttons that tap back with id and title', () => {
    const onChoose = vi.fn();
    render(<BusinessBubble m={phoneMessage(buttons)} onChoose={onChoose} />);
    expect(screen.getByText('Did that answer your question?')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Talk to a person' }));
    expect(onChoose).toHaveBeenCalledWith({ id: 'intent:talk_to_human', title: 'Talk to a person' });
  });
  it('opens a list and taps a row', () => {
    const onChoose = vi.fn();
    render(<BusinessBubble m={phoneMessage(list)} onChoose={onChoose} />);
    expect(screen.queryByRole('option', { name: 'Track my order' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: /Choose/ }));
    fireEvent.click(screen.getByRole('option', { name: 'Track my order' }));
    expect(onChoose).toHaveBeenCalledWith({ id: 'intent:order_status', title: 'Track my order', description: undefined });
    expect(screen.queryByRole('listbox')).toBeNull();
  });
});
