// The console against a real `switchboard serve --demo` (SWITCHBOARD_URL): a simulated customer
// reaches the inbox, an agent takes over and replies, the template editor flags promotional words.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, customerNumber, launch, openConsole, shot, token, until } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function openSimulator(page, { from, name }) {
  const toggle = page.getByRole('button', { name: /Customer simulator/ });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  const sim = page.getByTestId('simulator');
  await sim.getByLabel('Customer name').fill(name);
  await sim.getByLabel('Customer number').fill(from);
  return sim;
}

async function sendAsCustomer(sim, text) {
  await sim.getByLabel('Message as customer').fill(text);
  await sim.getByRole('button', { name: 'Send as customer' }).click();
}

function row(page, name) {
  return page.getByTestId('inbox-row').filter({ hasText: name });
}

describe('operator console', () => {
  test('a message typed in the simulator appears in the inbox with its triage tags', async () => {
    const page = await openConsole(browser.context, token('alice', 'agent'));
    const who = { from: customerNumber(), name: `Ana ${Date.now() % 100000}` };
    const sim = await openSimulator(page, who);
    await shot(page, '01-simulator-open');
    await sendAsCustomer(sim, 'Hi, where is my order 4471? It has not arrived yet');
    const r = row(page, who.name);
    await r.waitFor({ timeout: 20_000 });
    // Triage ran: the row carries the intent (and language) tags.
    await until(async () => (await r.locator('[data-tag^="intent:"]').count()) > 0, { what: 'intent tag' });
    const tags = await r.locator('[data-tag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag')));
    assert.ok(tags.some((t) => t.startsWith('intent:')), `tags: ${tags}`);
    assert.ok(tags.some((t) => t.startsWith('lang:')), `tags: ${tags}`);
    // The bot answered on the phone (quick replies or text).
    await until(async () => (await sim.locator('.sim-biz').count()) > 0, { what: 'the bot answer on the phone' }).catch(() => {});
    await shot(page, '02-inbox-with-simulated-customer');
    await page.close();
  });

  test('a customer asks for a human; an agent accepts in the console and replies', async () => {
    const alice = token('alice', 'agent');
    const page = await openConsole(browser.context, alice);
    const who = { from: customerNumber(), name: `Bea ${Date.now() % 100000}` };
    const sim = await openSimulator(page, who);
    await sendAsCustomer(sim, 'I want to talk to a human please');
    const r = row(page, who.name);
    await r.waitFor({ timeout: 20_000 });
    await until(async () => (await r.getAttribute('data-state')) === 'awaiting_agent', { what: 'awaiting_agent' });
    await shot(page, '03-handoff-requested');
    await r.click();
    await page.getByTestId('conversation').waitFor();
    await page.getByTestId('context-panel').waitFor();
    await page.getByRole('button', { name: 'Accept' }).click();
    await until(async () => (await page.getByTestId('owner').textContent()) === 'alice', { what: 'alice owns it' });
    await shot(page, '04-accepted');
    const reply = `Hello ${who.name}, this is Alice. I'm looking into it now.`;
    await page.getByLabel('Reply').fill(reply);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    // The Graph fake received the send exactly as Meta would.
    const sent = await until(
      async () => {
        const got = await api(`/api/demo/customer/${who.from}/messages`, { tok: alice });
        return got.items.find((m) => m.type === 'text' && m.text?.body === reply);
      },
      { what: 'the reply at the Graph fake' },
    );
    assert.equal(sent.messaging_product, 'whatsapp');
    assert.match(String(sent.to), new RegExp(`${who.from}$`));
    // The customer's phone shows it too, and the thread has it as an agent message.
    await sim.getByText(reply).waitFor({ timeout: 10_000 });
    await page.getByTestId('thread').getByText(reply).waitFor({ timeout: 10_000 });
    await until(async () => (await page.getByTestId('conversation').getAttribute('data-state')) === 'awaiting_customer', {
      what: 'awaiting_customer',
    });
    await shot(page, '05-agent-replied');
    await page.close();
  });

  test('the template editor highlights promotional words in a UTILITY template', async () => {
    const page = await openConsole(browser.context, token('tom', 'agent'), '/templates');
    await page.getByRole('tab', { name: 'UTILITY' }).click();
    await page.getByLabel('Body', { exact: true }).fill('Hi {{1}}, your order {{2}} has shipped. Enjoy a discount on your next purchase!');
    const mark = page.getByTestId('highlights-BODY').locator('mark[data-rule~="content.promotional"]');
    await mark.first().waitFor({ timeout: 10_000 });
    assert.equal((await mark.first().textContent()).toLowerCase(), 'discount');
    await page.getByTestId('findings').locator('[data-rule="content.promotional"]').first().waitFor();
    await shot(page, '06-template-lint');
    // Editing the word away clears the finding.
    await page.getByLabel('Body', { exact: true }).fill('Hi {{1}}, your order {{2}} has shipped and arrives on Friday.');
    await until(async () => (await mark.count()) === 0, { what: 'the finding to clear' });
    await page.close();
  });

  test('operations: admins see the dead-letter queues and can redrive; agents see no Operations', async () => {
    const agent = await openConsole(browser.context, token('ana', 'agent'));
    assert.equal(await agent.getByRole('navigation', { name: 'Main' }).getByText('Operations').count(), 0);
    await agent.close();

    const page = await openConsole(browser.context, token('root', 'admin'));
    await page.getByRole('navigation', { name: 'Main' }).getByText('Operations').click();
    const queues = page.getByTestId('dlq-queue');
    await queues.first().waitFor({ timeout: 10_000 });
    const names = await queues.evaluateAll((els) => els.map((e) => e.getAttribute('data-queue')));
    assert.ok(names.includes('events-dlq.fifo'), `queues: ${names}`);
    const depths = await queues.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-depth'))));
    assert.ok(depths.every((d) => Number.isInteger(d) && d >= 0), `depths: ${depths}`);
    await page.locator('[data-testid=dlq-queue][data-queue="events-dlq.fifo"]').click();
    await page.getByTestId('dlq-letters').waitFor();
    await page.getByRole('button', { name: 'Redrive…' }).click();
    await page.getByRole('group', { name: 'Confirm redrive' }).waitFor();
    await shot(page, '08-operations-redrive-confirm');
    await page.getByRole('button', { name: 'Confirm redrive' }).click();
    const result = await page.getByTestId('redrive-result').textContent({ timeout: 10_000 });
    assert.match(result, /^Moved \d+, left \d+\.$/);
    await shot(page, '09-operations-redriven');
    await page.close();
  });
});
