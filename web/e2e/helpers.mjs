// Shared e2e plumbing: Debian's chromium driven by playwright-core, operator tokens from
// `switchboard token`, signed webhooks, artifacts under target/web-artifacts/.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const BASE = (process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const BIN = process.env.SWITCHBOARD_BIN ?? join(ROOT, 'target', 'debug', 'switchboard');
export const ARTIFACTS = join(ROOT, 'target', 'web-artifacts');
export const APP_SECRET = 'switchboard-demo-app-secret';
export const PHONE_NUMBER_ID = '110000000000001';
mkdirSync(ARTIFACTS, { recursive: true });

const tokens = new Map();
/** A JWT for the demo server, minted by the CLI with the same default secret. */
export function token(user, ...roles) {
  const key = `${user}:${roles.join(',')}`;
  if (!tokens.has(key)) {
    const args = ['token', '--user', user];
    for (const r of roles) args.push('--role', r);
    tokens.set(key, execFileSync(BIN, args, { encoding: 'utf8' }).trim());
  }
  return tokens.get(key);
}

export async function api(path, { tok, method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return data;
}

/** Polls `fn` until it returns a truthy value. */
export async function until(fn, { timeout = 20_000, every = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${last?.message ?? JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A random simulated customer number (555 range, never a real one). */
export function customerNumber() {
  return `1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

export function webhookBody(messages) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '109876543210987',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550100001', phone_number_id: PHONE_NUMBER_ID },
              contacts: messages.map((m) => ({ profile: { name: m.name }, wa_id: m.from })),
              messages: messages.map((m) => ({
                from: m.from,
                id: m.id,
                timestamp: String(m.timestamp ?? Math.floor(Date.now() / 1000)),
                type: 'text',
                text: { body: m.text },
              })),
            },
          },
        ],
      },
    ],
  };
}

/** POSTs a webhook signed with the demo app secret, as Meta would. */
export async function postWebhook(body) {
  const raw = JSON.stringify(body);
  const sig = createHmac('sha256', APP_SECRET).update(raw).digest('hex');
  const res = await fetch(`${BASE}/webhook`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${sig}` },
    body: raw,
  });
  if (!res.ok) throw new Error(`webhook → ${res.status} ${await res.text()}`);
}

export async function launch() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'sb-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the console signed in with `tok` (the login link `switchboard serve` prints). */
export async function openConsole(context, tok, path = '/') {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(`${BASE}${path}#token=${tok}`);
  await page.getByTestId('whoami').waitFor();
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}
