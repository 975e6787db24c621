// The fleet view with three gateways on one broker: all listed, a remote
// port's state live when its application opens it, a cable shown from both
// ends, a send from one gateway's dashboard reaching another gateway's
// application, the remote port's traffic followed, and a killed gateway
// shown offline within its keepalive.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { Gateway, App, launch, newPage, until, stepper, missingEnv, ARTIFACTS } from './lib.mjs';

describe('dashboard fleet', { skip: missingEnv, timeout: 240_000 }, () => {
  // a prefix of our own, so other tests' gateways on the broker stay out
  const prefix = `brfleet${process.pid}`;
  const home = new Gateway('home', { ports: ['cat'], prefix });
  const shack = new Gateway('shack', { ports: ['radio'], prefix });
  const field = new Gateway('field', { ports: ['gps'], prefix });
  let browser;
  let page;
  let app = null;
  let ptyHolder = null;   // a pseudo-terminal whose slave serves as shack's "device"
  const step = stepper(test);
  const card = (id) => page.locator(`#fleet [data-gateway="${id}"]`);

  before(async () => {
    await Promise.all([home.start(), shack.start(), field.start()]);
    browser = await launch();
    page = await newPage(browser);
  });

  after(async () => {
    if (app) app.close();
    if (ptyHolder) ptyHolder.kill('SIGTERM');
    if (browser) await browser.close().catch(() => {});
    await Promise.all([home.cleanup(), shack.cleanup(), field.cleanup()]);
  });

  step('GET /api/v1/fleet lists the three gateways once the watch has settled', async () => {
    const r = await home.api('GET', '/fleet');
    assert.equal(r.status, 200);
    assert.equal(r.data.prefix, prefix);
    const ids = r.data.gateways.map((g) => g.id).sort();
    assert.deepEqual(ids, ['field', 'home', 'shack']);
    const shackJ = r.data.gateways.find((g) => g.id === 'shack');
    assert.equal(shackJ.online, true);
    assert.equal(shackJ.ports[0].name, 'radio');
    assert.equal(shackJ.ports[0].state.open, false);
  });

  step('the fleet page shows every gateway online with its ports', async () => {
    await page.goto(`${home.url}/#/fleet`);
    await page.waitForSelector('#link[data-state="live"]');
    for (const id of ['home', 'shack', 'field']) {
      await card(id).waitFor();
      assert.equal(await card(id).locator('[data-field="online"]').textContent(), 'online');
    }
    assert.equal(await card('shack').locator('tr[data-port="radio"]').count(), 1);
  });

  step('a remote port opened by its application turns open live', async () => {
    const radioRow = card('shack').locator('tr[data-port="radio"]');
    assert.equal(await radioRow.getAttribute('data-open'), 'false');
    app = new App(shack.link('radio'));
    await until('shack/radio open on the fleet page', async () => (await radioRow.getAttribute('data-open')) === 'true');
    assert.equal(await radioRow.locator('.badge').textContent(), 'open');
  });

  step('a cable between two gateways is shown, and from the port page', async () => {
    assert.equal((await home.api('PATCH', '/ports/cat', { peer: 'shack/radio' })).status, 200);
    assert.equal((await shack.api('PATCH', '/ports/radio', { peer: 'home/cat' })).status, 200);
    const cable = page.locator('#cables li', { hasText: 'home/cat' });
    await until('the cable', async () => /home\/cat ⇄ shack\/radio|shack\/radio ⇄ home\/cat/.test(await cable.textContent()));
    await page.screenshot({ path: path.join(ARTIFACTS, 'fleet.png') });
    // the local end: its peer and the peer's live state
    await page.goto(`${home.url}/#/port/cat`);
    await until('the peer on the port page', async () => /Two-way cable to shack\/radio/.test(await page.textContent('#cable')));
    await until('the peer open', async () => /open/.test(await page.textContent('#cable [data-peer-state]')));
  });

  step('a send from home reaches the application on shack; its traffic is followed', async () => {
    await page.goto(`${home.url}/#/fleet/shack/radio`);
    await page.waitForSelector('#view-console:not([hidden])');
    assert.equal(await page.textContent('#console-title'), 'shack / radio');
    await page.fill('#send-data', 'FA;');
    await page.click('#send-button');
    await app.readUntil('FA;');
    await until('the send confirmed', async () => /Published 3 B to .*shack\/radio\/rx/.test(await page.textContent('#send-status')));
    app.write('FA00014074000;');
    await page.locator('#traffic li[data-dir="tx"]', { hasText: 'FA00014074000;' }).first().waitFor();
    assert.match(await page.textContent('#topics'), new RegExp(`${prefix}/shack/radio/set`), 'its topics, to copy');
  });

  step("the peer's state follows live on the port page", async () => {
    await page.goto(`${home.url}/#/port/cat`);
    const peer = page.locator('#cable [data-peer-state]');
    await until('the peer open', async () => /^open/.test(await peer.textContent()));
    app.close();                            // the application on shack lets go
    app = null;
    await until('the peer closed', async () => /^closed/.test(await peer.textContent()));
  });

  step('a remote device port: its line and RTS set through its set topic', async () => {
    ptyHolder = spawn('/usr/bin/python3', ['-c',
      'import os, sys, time\nm, s = os.openpty()\nprint(os.ttyname(s), flush=True)\ntime.sleep(600)\n'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    const dev = await new Promise((resolve, reject) => {
      readline.createInterface({ input: ptyHolder.stdout }).once('line', resolve);
      ptyHolder.once('exit', () => reject(new Error('the pty holder exited')));
    });
    const r = await shack.api('POST', '/ports', { name: 'rig', kind: 'device', device: dev, baud: 9600 });
    assert.equal(r.status, 201, JSON.stringify(r.data));
    await page.goto(`${home.url}/#/fleet/shack/rig`);
    await until('the remote device open', async () => (await page.textContent('#console-badge')) === 'open');
    await page.waitForSelector('#remote-line:not([hidden])');
    await page.fill('#remote-line-form [name="baud"]', '19200');
    await page.selectOption('#remote-line-form [name="framing"]', '8N2');
    await page.click('#remote-line-form button[type="submit"]');
    await until('shack applied it', async () => {
      const st = (await shack.api('GET', '/ports/rig')).data.state;
      return st.baud === 19200 && st.stop_bits === 2;
    });
    await until('the console shows it', async () => (await page.textContent('#console-line')) === '19200 8N2');
    // raising RTS asks first, then goes out on the set topic
    await page.click('#lines button[data-line="rts"]');
    await page.waitForSelector('#confirm-dialog[open]');
    assert.match(await page.textContent('#confirm-text'), /key a transmitter/);
    await page.click('#confirm-ok');
    await until('the set published', async () => new RegExp(`RTS on asked \\(published to ${prefix}/shack/rig/set\\)`).test(await page.textContent('#send-status')));
  });

  step('a killed gateway shows offline within its keepalive', async () => {
    await page.goto(`${home.url}/#/fleet`);
    await card('field').waitFor();
    await field.stop('SIGKILL');            // no goodbye: the broker's will says offline
    await until('field offline', async () => (await card('field').locator('[data-field="online"]').textContent()) === 'offline', 30_000);
    assert.equal(await card('shack').locator('[data-field="online"]').textContent(), 'online');
  }, { ms: 45_000 });

  step('sending to an offline gateway says it is queued, not delivered', async () => {
    await page.goto(`${home.url}/#/fleet/field/gps`);
    await page.waitForSelector('#view-console:not([hidden])');
    await page.fill('#send-data', 'PING');
    await page.click('#send-button');
    await until('the answer', async () => /Queued, not delivered: field is offline/.test(await page.textContent('#send-status')));
    assert.match(await page.getAttribute('#send-status', 'class'), /queued/);
  });

  step('no script errors or CSP violations', async () => {
    assert.deepEqual(page.errors, []);
  }, { always: true });
});
