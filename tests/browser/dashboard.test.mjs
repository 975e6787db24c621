// Browser test of the mqttty dashboard against a running gateway.
//
//   MQTTTY_URL=http://127.0.0.1:PORT MQTTTY_LINK_DIR=DIR npm test
//
// MQTTTY_URL       the dashboard's base URL (required)
// MQTTTY_LINK_DIR  the gateway's --link-dir, where port links appear (required)
// MQTTTY_PASSWORD  only when the gateway has a password: signs in through the page
// MQTTTY_CHROMIUM  the browser binary (default: Debian's chromium package)
//
// The scenario drives the page the way a person would: add a port with the
// form, talk to its link like an application, watch the traffic, send from
// the send box, remove the port. A screenshot is saved mid-scenario to
// artifacts/dashboard.png.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { until, WAIT, BROWSER, HERE, ARTIFACTS } from './lib.mjs';

const BASE = (process.env.MQTTTY_URL || '').replace(/\/+$/, '');
const LINK_DIR = process.env.MQTTTY_LINK_DIR || '';
const PASSWORD = process.env.MQTTTY_PASSWORD || '';
const NAME = 'brw1';
const STEP_TIMEOUT = 20_000;

const missing = !BASE || !LINK_DIR ? 'set MQTTTY_URL and MQTTTY_LINK_DIR (a running gateway) to run it' : false;


const exists = (p) => { try { fs.lstatSync(p); return true; } catch { return false; } };

// Read from a non-blocking fd until `want` has been seen or the deadline passes.
async function readUntil(fd, want, ms = WAIT) {
  const end = Date.now() + ms;
  const buf = Buffer.alloc(4096);
  let got = Buffer.alloc(0);
  while (!got.includes(want)) {
    if (Date.now() > end) {
      throw new Error(`timed out after ${ms} ms reading ${JSON.stringify(want.toString('latin1'))} from the link; got ${JSON.stringify(got.toString('latin1'))}`);
    }
    let n = 0;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code !== 'EAGAIN' && e.code !== 'EWOULDBLOCK') throw e;
    }
    if (n > 0) got = Buffer.concat([got, buf.subarray(0, n)]);
    else await sleep(50);
  }
  return got;
}

describe('mqttty dashboard', { skip: missing, timeout: 90_000 }, () => {
  const link = path.join(LINK_DIR, NAME);
  let browser;
  let page;
  let fd = null;
  let failedStep = null;
  const pageErrors = [];
  const cspErrors = [];

  // Steps build on each other: after one fails, the rest are skipped so the
  // report names the step that broke instead of a cascade of timeouts.
  function step(name, fn, { always = false } = {}) {
    test(name, { timeout: STEP_TIMEOUT }, async (t) => {
      if (failedStep && !always) {
        t.skip(`skipped: "${failedStep}" failed`);
        return;
      }
      try {
        await fn(t);
      } catch (e) {
        failedStep ||= name;
        throw e;
      }
    });
  }

  const api = (method, p) => page.request.fetch(`${BASE}/api/v1${p}`, { method, failOnStatusCode: false, timeout: WAIT });
  const row = () => page.locator(`[data-port="${NAME}"]`);

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: BROWSER,
      timeout: 30_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.setDefaultNavigationTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (execute|apply|load|connect)/i.test(m.text())) cspErrors.push(m.text());
    });
  });

  after(async () => {
    if (fd !== null) { try { fs.closeSync(fd); } catch { /* already gone */ } fd = null; }
    if (page) {
      // Leave the gateway as we found it, whatever failed.
      try {
        const r = await api('GET', `/ports/${NAME}`);
        if (r.status() === 200) await api('DELETE', `/ports/${NAME}`);
      } catch { /* best effort */ }
    }
    if (browser) await browser.close().catch(() => {});
  });

  step('loads and shows the gateway id and broker state', async () => {
    await page.goto(`${BASE}/`);
    const login = page.locator('#login-dialog');
    // A gateway with a password answers 401 and the page asks for it.
    await page.waitForFunction(() => document.querySelector('#login-dialog').open ||
      document.querySelector('#gw-id').textContent !== '–');
    if (await login.evaluate((d) => d.open)) {
      assert.ok(PASSWORD, 'the gateway asks for a password: set MQTTTY_PASSWORD');
      await page.fill('#login-form [name="password"]', PASSWORD);
      await page.click('#login-form button[type="submit"]');
      await page.waitForFunction(() => !document.querySelector('#login-dialog').open);
    }
    const status = await (await api('GET', '/status')).json();
    assert.ok(status.id, 'GET /api/v1/status has an id');
    await page.waitForFunction((id) => document.querySelector('#gw-id').textContent === id, status.id);
    // live updates are flowing once the websocket's hello arrived
    await page.waitForSelector('#link[data-state="live"]');
    // The broker indicator follows the gateway (Mosquitto may still be connecting).
    await until('the broker indicator to match the API', async () => {
      const s = await (await api('GET', '/status')).json();
      const shown = await page.getAttribute('#broker', 'data-connected');
      return shown === String(s.broker.connected);
    });
    const text = await page.textContent('#broker');
    assert.match(text, /broker (connected|disconnected)/i);
    const count = await page.textContent('#port-count');
    assert.equal(Number(count), status.ports, 'port count in the header');
  });

  step(`adds port ${NAME} through the form`, async () => {
    const before = await api('GET', `/ports/${NAME}`);
    if (before.status() === 200) {            // left over from an aborted run
      await api('DELETE', `/ports/${NAME}`);
      await row().waitFor({ state: 'detached' });
    }
    await page.click('#add-port');
    await page.waitForSelector('#port-dialog[open]');
    const form = page.locator('#port-form');
    await form.locator('[name="name"]').fill(NAME);
    await form.locator('[name="kind"]').selectOption('pty');
    await form.locator('button[type="submit"]').click();
    await until('the form to close (or show an error)', async () => {
      const err = await page.locator('#port-form-error');
      if (await err.isVisible()) throw new Error(`the form says: ${await err.textContent()}`);
      return !(await page.locator('#port-dialog').evaluate((d) => d.open));
    });
    await row().waitFor({ state: 'visible' });
    assert.equal(await row().locator('[data-field="kind"]').textContent(), 'pty');
    const got = await api('GET', `/ports/${NAME}`);
    assert.equal(got.status(), 200, 'the API knows the new port');
    await until(`the link ${link}`, () => exists(link));
  });

  step('shows what the application writes as tx traffic', async () => {
    await row().locator('a.name').click();
    await page.waitForSelector('#view-console:not([hidden])');
    assert.equal(await page.textContent('#console-title'), NAME, 'the console shows the chosen port');
    const stty = spawnSync('stty', ['-F', link, 'raw', '-echo', '9600'], { timeout: 5000, encoding: 'utf8' });
    assert.equal(stty.status, 0, `stty failed: ${stty.stderr || stty.error}`);
    fd = fs.openSync(link, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, Buffer.from('hello\r\n'));
    // The gateway may cut the bytes into several messages: look at all tx entries.
    await page.waitForFunction(() => [...document.querySelectorAll('#traffic [data-dir="tx"] .text')]
      .map((e) => e.textContent).join('').includes('hello'));
    const entry = page.locator('#traffic [data-dir="tx"]').first();
    assert.match(await entry.locator('time').textContent(), /^\d\d:\d\d:\d\d\.\d{3}$/);
  });

  step('sends from the send box to the application', async () => {
    const send = page.locator('#send-form');
    await send.locator('[name="mode"]').selectOption('text');
    await send.locator('[name="data"]').fill('ping\\r');      // typed as a person would: backslash, r
    await send.locator('#send-button').click();
    await until('the send to be confirmed', async () => {
      const cls = await page.getAttribute('#send-status', 'class');
      if (/error/.test(cls)) throw new Error(`the send box says: ${await page.textContent('#send-status')}`);
      return /\bok\b/.test(cls);
    });
    const got = await readUntil(fd, Buffer.from('ping\r'));
    assert.ok(got.includes(Buffer.from('ping\r')));
    await page.waitForFunction(() => [...document.querySelectorAll('#traffic [data-dir="rx"] .text')]
      .map((e) => e.textContent).join('').includes('pingCR'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
  });

  step('the row shows the port open with its tx count', async () => {
    await page.click('#console-back');
    await page.waitForFunction((name) => {
      const r = document.querySelector(`[data-port="${name}"]`);
      if (!r || r.dataset.open !== 'true') return false;
      return Number(r.querySelector('[data-field="tx_bytes"]').dataset.value) >= 7;
    }, NAME);
    assert.equal(await row().locator('[data-field="open"] .badge').textContent(), 'open');
  });

  step(`removes port ${NAME} through the UI`, async () => {
    fs.closeSync(fd);
    fd = null;
    await until('the port closed', async () => (await row().getAttribute('data-open')) === 'false');
    await row().locator('[data-action="remove"]').click();
    await page.waitForSelector('#confirm-dialog[open]');
    assert.match(await page.textContent('#confirm-dialog'), new RegExp(NAME), 'the confirmation names the port');
    await page.click('#confirm-ok');
    await row().waitFor({ state: 'detached' });
    await until(`the link ${link} to disappear`, () => !exists(link));
    assert.equal((await api('GET', `/ports/${NAME}`)).status(), 404);
  });

  step('ran without script errors or CSP violations', async () => {
    assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
    assert.deepEqual(cspErrors, [], 'Content-Security-Policy violations');
  }, { always: true });
});
