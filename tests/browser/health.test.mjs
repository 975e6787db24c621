// The dashboard when things go wrong, and a port's console: the gateway
// stopped and restarted, a port with a problem, a device on a missing path,
// removing an open port, reload keeping traffic, the send box reachable
// with traffic flowing (1280×800 and a phone), dashboard-sent bytes labelled
// as such, form errors at their field.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Gateway, App, launch, newPage, until, stepper, exists, missingEnv, ARTIFACTS } from './lib.mjs';

describe('dashboard health and console', { skip: missingEnv, timeout: 240_000 }, () => {
  const gw = new Gateway('brhealth', { ports: ['hp1', 'hp2'] });
  let browser;
  let page;
  let app = null;
  let app2 = null;
  let chatter = 0;
  const step = stepper(test);
  const row = (name) => page.locator(`#ports tr[data-port="${name}"]`);

  before(async () => {
    await gw.start();
    browser = await launch();
    page = await newPage(browser);
    // count the page's websocket attempts (an init script, not an inline one)
    await page.addInitScript(() => {
      const W = window.WebSocket;
      window.wsAttempts = 0;
      window.WebSocket = class extends W {
        constructor(...args) { super(...args); window.wsAttempts++; }
      };
    });
  });

  after(async () => {
    clearInterval(chatter);
    if (app) app.close();
    if (app2) app2.close();
    if (browser) await browser.close().catch(() => {});
    await gw.cleanup();
  });

  step('loads live', async () => {
    await page.goto(`${gw.url}/#/ports`);
    await page.waitForSelector('#link[data-state="live"]');
    await row('hp1').waitFor();
    assert.equal(await page.locator('#offline').isVisible(), false, 'no banner while the gateway answers');
  });

  step('the gateway stopped: a banner, greyed data, broker unknown, sends refused', async () => {
    await gw.stop('SIGTERM');
    await page.waitForSelector('#offline', { state: 'visible' });
    assert.match(await page.textContent('#offline'), /cannot be reached/);
    assert.ok(await page.evaluate(() => document.body.classList.contains('stale')), 'data is greyed');
    assert.equal(await page.getAttribute('#broker', 'data-connected'), 'unknown',
      'the broker pill no longer claims a connection it cannot know');
    assert.ok(await page.locator('#retry-now').isVisible(), 'a retry-now button');
    assert.ok(await page.locator('#send-button').isDisabled(), 'nothing can be sent meanwhile');
  });

  step('the gateway back: live again within a few seconds, banner gone', async () => {
    await sleep(3000);                      // let the page's retries run into a closed port
    await gw.start();
    const t0 = Date.now();
    await page.waitForSelector('#link[data-state="live"]', { timeout: 8000 });
    const took = Date.now() - t0;
    assert.ok(took < 6000, `back ${took} ms after the gateway listened (retries are capped at ~2 s)`);
    assert.equal(await page.locator('#offline').isVisible(), false);
    assert.equal(await page.evaluate(() => document.body.classList.contains('stale')), false);
    await page.waitForSelector('#broker[data-connected="true"]');
  });

  step('"retry now" tries again at once', async () => {
    await gw.stop('SIGTERM');
    await page.waitForSelector('#offline', { state: 'visible' });
    // in one turn of the page's event loop: nothing else can try meanwhile
    const tries = await page.evaluate(() => {
      const before = window.wsAttempts;
      document.querySelector('#retry-now').click();
      return window.wsAttempts - before;
    });
    assert.equal(tries, 1, 'one new connection attempt, at once');
    await gw.start();
    await page.waitForSelector('#link[data-state="live"]', { timeout: 8000 });
  });

  step('a port whose link is taken shows its problem on the row, also after a reload', async () => {
    let r = await gw.api('POST', '/ports', { name: 'clash' });
    assert.equal(r.status, 201);
    r = await gw.api('PATCH', '/ports/clash', { enabled: false });
    assert.equal(r.status, 200);
    await until('the link to go', () => !exists(gw.link('clash')));
    fs.mkdirSync(gw.link('clash'));        // something else now sits where the link goes
    r = await gw.api('PATCH', '/ports/clash', { enabled: true });
    const st = await gw.api('GET', '/status');
    const problem = st.data.problems.clash;
    assert.ok(problem, `the API reports a problem (PATCH answered ${r.status})`);
    const cell = row('clash').locator('[data-field="problem"]');
    await until('the problem on the row', async () => (await cell.textContent()) === problem);
    assert.match(await row('clash').locator('.badge').textContent(), /problem/);
    await page.reload();
    await until('the problem on the row after a reload', async () => (await cell.textContent()) === problem);
    fs.rmdirSync(gw.link('clash'));
    await gw.api('DELETE', '/ports/clash');
  });

  step('a device port on a missing path: its configured line and its reason', async () => {
    const r = await gw.api('POST', '/ports', { name: 'radio', kind: 'device', device: '/dev/ttyMQTTTY-absent', baud: 38400 });
    assert.equal(r.status, 201, JSON.stringify(r.data));
    const line = row('radio').locator('[data-field="line"]');
    await until('the configured line', async () => (await line.textContent()) === '38400 8N1');
    assert.match(await line.getAttribute('title'), /configured/);
    assert.notEqual(await row('radio').locator('.badge').textContent(), 'open');
    // whatever reason the gateway gives (device missing, retrying) is on the row
    const st = await gw.api('GET', '/status');
    if (st.data.problems.radio) {
      await until('the reason on the row', async () =>
        (await row('radio').locator('[data-field="problem"]').textContent()) === st.data.problems.radio);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'ports.png') });
    await gw.api('DELETE', '/ports/radio');
  });

  step('traffic: control characters visible, dashboard sends labelled, filters', async () => {
    app = new App(gw.link('hp1'));
    await page.goto(`${gw.url}/#/port/hp1`);
    await page.waitForSelector('#link[data-state="live"]');
    app.write('FA00014074000;\r\n');
    const tx = page.locator('#traffic li[data-dir="tx"]').last();
    await until('the tx entry', async () => (await tx.locator('.text').textContent()).includes('FA00014074000;'));
    const ctl = await tx.locator('.text .ctl').allTextContents();
    assert.deepEqual(ctl, ['CR', 'LF'], 'CR and LF shown as such, not as dots');
    // a send from the dashboard reaches the application and is labelled as ours
    await page.fill('#send-data', 'IF;');
    await page.click('#send-button');
    await app.readUntil('IF;');
    await until('the send confirmed', async () => /Written to hp1/.test(await page.textContent('#send-status')));
    const ours = page.locator('#traffic li[data-src="api"]').last();
    await until('our send in the log', async () => (await ours.locator('.dir').textContent()) === 'RX·dash');
    await page.click('[data-filter="api"]');
    const shown = await page.locator('#traffic li').evaluateAll((l) => l.map((e) => e.dataset.src));
    assert.ok(shown.length >= 1 && shown.every((s) => s === 'api'), `only dashboard sends: ${shown}`);
    await page.click('[data-filter="tx"]');
    const dirs = await page.locator('#traffic li').evaluateAll((l) => l.map((e) => e.dataset.dir));
    assert.ok(dirs.length >= 1 && dirs.every((d) => d === 'tx'), `only tx: ${dirs}`);
    await page.click('[data-filter="all"]');
    // binary: expandable hex with offsets
    app.write(Buffer.from([...Array(40).keys()]));
    const bin = page.locator('#traffic li[data-dir="tx"]').last();
    await until('the binary entry', async () => (await bin.locator('.len').textContent()) === '40 B');
    await bin.locator('details summary').click();
    const dump = await bin.locator('pre.dump').textContent();
    const lines = dump.split('\n');
    assert.deepEqual(lines.map((l) => l.slice(0, 6)), ['0000  ', '0010  ', '0020  '], 'offsets');
    assert.match(lines[0], /^0000  00 01 02 03 04 05 06 07  08 09 0A 0B 0C 0D 0E 0F +\|\.{16}\|$/);
    assert.match(lines[2], /^0020  20 21 22 23 24 25 26 27 +\| !"#\$%&'\|$/);
    assert.equal(new Set(lines.map((l) => l.indexOf('|'))).size, 1, 'the ASCII column lines up');
  });

  step('a reload and a second browser still see recent traffic; downloads have it', async () => {
    app.write('before-reload\r');
    const mark = page.locator('#traffic li', { hasText: 'before-reload' });
    await mark.first().waitFor();
    await page.reload();
    await page.waitForSelector('#link[data-state="live"]');
    await mark.first().waitFor();
    await page.click('#console-back');
    await until('last activity after the reload', async () =>
      /just now|s ago/.test(await row('hp1').locator('[data-field="activity"]').textContent()));
    await page.goto(`${gw.url}/#/port/hp1`);
    const other = await newPage(browser);
    await other.goto(`${gw.url}/#/port/hp1`);
    await other.locator('#traffic li', { hasText: 'before-reload' }).first().waitFor();
    await other.context().close();
    const csvHref = await page.getAttribute('#dl-csv', 'href');
    const csv = await (await page.request.get(`${gw.url}${csvHref}`)).text();
    assert.match(csv, /^ts_ms,time_utc,dir,src,bytes,hex,text/);
    assert.match(csv, /,tx,port,14,.*,"before-reload\\r"/);
  });

  step('1280×800, two ports busy: the send box is on screen', async () => {
    app2 = new App(gw.link('hp2'));
    chatter = setInterval(() => {
      try { app.write('FA00014074000;'); app2.write('$GPGGA,123519,4807.038,N*47\r\n'); } catch { /* closing */ }
    }, 50);
    await page.goto(`${gw.url}/#/port/hp1`);
    await sleep(2000);
    const box = await page.locator('#send-data').boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 800, `send box at ${JSON.stringify(box)}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'port-page.png') });
  });

  step('a phone: the send box is on the first screen and works', async () => {
    const phone = await newPage(browser, { width: 390, height: 844 });
    await phone.goto(`${gw.url}/#/port/hp1`);
    await phone.waitForSelector('#link[data-state="live"]');
    await sleep(1000);
    const box = await phone.locator('#send-data').boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 844, `send box at ${JSON.stringify(box)}`);
    const btn = await phone.locator('#send-button').boundingBox();
    assert.ok(btn && btn.y + btn.height <= 844, 'its Send button too');
    await phone.fill('#send-data', 'from-phone');
    await phone.click('#send-button');
    await app.readUntil('from-phone');
    await phone.screenshot({ path: path.join(ARTIFACTS, 'phone.png') });
    assert.deepEqual(phone.errors, []);
    await phone.context().close();
    clearInterval(chatter);
  });

  step('removing an open port warns that an application holds it', async () => {
    await page.goto(`${gw.url}/#/ports`);
    await row('hp2').waitFor();
    await until('hp2 open', async () => (await row('hp2').getAttribute('data-open')) === 'true');
    await row('hp2').locator('[data-action="remove"]').click();
    await page.waitForSelector('#confirm-dialog[open]');
    assert.match(await page.textContent('#confirm-text'), /application holds it open/);
    await page.click('#confirm-cancel');
    assert.equal((await gw.api('GET', '/ports/hp2')).status, 200, 'cancel keeps the port');
    await row('hp2').locator('[data-action="remove"]').click();
    await page.click('#confirm-ok');
    await row('hp2').waitFor({ state: 'detached' });
    assert.equal((await gw.api('GET', '/ports/hp2')).status, 404);
    app2.close();
    app2 = null;
  });

  step('the form: a bad name and a server error are told at their field; DTR/RTS warn', async () => {
    await page.click('#add-port');
    await page.fill('#port-form [name="name"]', 'bad name');
    await page.click('#port-save');
    await page.waitForSelector('#err-name:not([hidden])');
    assert.match(await page.textContent('#err-name'), /no spaces/);
    assert.equal(await page.getAttribute('#port-form [name="name"]', 'aria-invalid'), 'true');
    await page.fill('#port-form [name="name"]', 'dev9');
    await page.selectOption('#port-form [name="kind"]', 'device');
    assert.equal(await page.inputValue('#port-form [name="baud"]'), '9600', 'the default comes from the schema');
    await page.check('#port-form [name="rts"]');
    assert.match(await page.textContent('#lines-warning'), /key a transmitter/);
    assert.ok(await page.evaluate(() => document.querySelector('#lines-warning').classList.contains('lit')));
    await page.uncheck('#port-form [name="rts"]');
    await page.fill('#port-form [name="baud"]', '0');
    await page.click('#port-save');
    await page.waitForSelector('#err-baud:not([hidden])');
    assert.match(await page.textContent('#err-baud'), /baud/);
    assert.ok(await page.locator('#port-dialog[open]').count(), 'the form stays open');
    await page.click('#port-cancel');
  });

  step('an edit says it is saved and the row shows framing and peer at once', async () => {
    await row('hp1').locator('[data-action="edit"]').click();
    await page.waitForSelector('#port-dialog[open]');
    await page.fill('#port-form [name="peer"]', 'elsewhere/x1');
    await page.selectOption('#port-form [name="frame.preset"]', 'kenwood');
    await page.click('#port-save');
    await page.waitForSelector('#saved:not([hidden])');
    assert.equal(await page.textContent('#saved'), 'Saved hp1.');
    assert.equal(await row('hp1').locator('[data-field="peer"]').textContent(), 'elsewhere/x1');
    assert.equal(await row('hp1').locator('[data-field="frame"]').textContent(), 'ends with ;');
    const p = (await gw.api('GET', '/ports/hp1')).data;
    assert.equal(p.peer, 'elsewhere/x1');
    assert.deepEqual([p.frame.mode, p.frame.delim], ['delim', ';']);
  });

  step('no script errors or CSP violations', async () => {
    assert.deepEqual(page.errors, []);
  }, { always: true });
});
