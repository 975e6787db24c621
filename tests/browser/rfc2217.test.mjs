// The dashboard's RFC 2217 hint: a port with `rfc2217` set shows, in its
// console, the rfc2217:// URL a network serial client uses (and that URL
// really reaches the listener), lines to copy, and on a non-loopback
// listener the warning that RFC 2217 has no authentication; a port without
// it shows nothing. The form's rfc2217 field has its one-line help, warns
// while a non-loopback address is typed, and sets and clears the listener;
// the form also makes a port of kind rfc2217 (its server URL).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { Gateway, launch, newPage, until, stepper, freePort, missingEnv, ARTIFACTS } from './lib.mjs';

// The first bytes the listener sends: Telnet negotiation (IAC = 0xFF).
function firstBytes(port, ms = 5000) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => { c.destroy(); reject(new Error(`nothing from 127.0.0.1:${port}`)); }, ms);
    c.once('data', (d) => { clearTimeout(t); c.destroy(); resolve(d); });
    c.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

describe('the RFC 2217 hint', { skip: missingEnv, timeout: 180_000 }, () => {
  const gw = new Gateway('brrfc', { ports: ['plain'] });
  let browser;
  let page;
  let lp;
  let lp2;
  const step = stepper(test);
  const box = () => page.locator('#rfc2217-box');
  const urlOf = () => box().locator('[data-rfc2217-url]');

  before(async () => {
    await gw.start();
    lp = await freePort();
    lp2 = await freePort();
    const r = await gw.api('POST', '/ports', { name: 'net', rfc2217: `127.0.0.1:${lp}` });
    assert.equal(r.status, 201, JSON.stringify(r.data));
    browser = await launch();
    page = await newPage(browser);
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    await gw.cleanup();
  });

  step('a port with rfc2217 set: the URL, lines to copy, loopback note, no warning', async () => {
    await page.goto(`${gw.url}/#/port/net`);
    await page.waitForSelector('#link[data-state="live"]');
    await box().waitFor({ state: 'visible' });
    const url = `rfc2217://127.0.0.1:${lp}`;
    assert.equal(await urlOf().textContent(), url);
    const lines = await box().locator('.rfc-examples code').allTextContents();
    assert.ok(lines.some((l) => l === `serial.serial_for_url("${url}", baudrate=9600, timeout=1)`), lines.join('\n'));
    assert.ok(lines.some((l) => l === `python3 -m serial.tools.miniterm ${url} 9600`), lines.join('\n'));
    assert.ok(lines.some((l) => l.endsWith(` 127.0.0.1 ${lp}`) && l.startsWith('com2tcp-rfc2217')), lines.join('\n'));
    const copies = await box().locator('button[data-copy]').evaluateAll((b) => b.map((x) => x.dataset.copy));
    assert.ok(copies.includes(url), `a copy button for the URL: ${copies}`);
    assert.equal(copies.length, 1 + lines.length, 'each line has its copy button');
    assert.equal(await box().locator('[data-rfc2217-warning]').count(), 0, 'no warning on loopback');
    assert.match(await box().locator('[data-rfc2217-loopback]').textContent(), new RegExp(`ssh -L ${lp}:127.0.0.1:${lp}`));
    assert.deepEqual(page.errors, []);
    await page.screenshot({ path: path.join(ARTIFACTS, 'rfc2217.png'), fullPage: true });
  });

  step('the URL shown reaches the port\'s RFC 2217 listener', async () => {
    const d = await firstBytes(lp);
    assert.equal(d[0], 0xff, `Telnet negotiation first, got ${d.toString('hex')}`);
  });

  step('a port without rfc2217: no hint', async () => {
    await page.goto(`${gw.url}/#/port/plain`);
    await until('the console of plain', async () => (await page.textContent('#console-title')) === 'plain');
    await page.waitForSelector('#details dt');
    assert.equal(await box().isVisible(), false);
    assert.equal(await urlOf().count(), 0);
  });

  step('the form: help for the field, a warning while a non-loopback address is typed, a bad value at its field', async () => {
    await page.click('#console-edit');
    const field = page.locator('#port-form [name="rfc2217"]');
    await field.waitFor({ state: 'visible' });
    assert.equal(await field.inputValue(), '');
    assert.match(await page.textContent('#rfc2217-help'), /ADDR:PORT.*network serial client/);
    const warn = page.locator('#rfc2217-warning');
    assert.equal(await warn.isVisible(), false);
    await field.fill('0.0.0.0:4001');
    await warn.waitFor({ state: 'visible' });
    assert.match(await warn.textContent(), /no authentication/);
    await page.locator('#port-dialog').screenshot({ path: path.join(ARTIFACTS, 'rfc2217-form.png') });
    await field.fill(`127.0.0.1:${lp2}`);
    await warn.waitFor({ state: 'hidden' });
    await field.fill('4001');
    await page.click('#port-save');
    const err = page.locator('#err-rfc2217');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /ADDR:PORT/);
    assert.equal((await gw.api('GET', '/ports/plain')).data.rfc2217, null, 'nothing saved');
  });

  step('saving an address serves the port: the hint appears; clearing it takes it away', async () => {
    await page.fill('#port-form [name="rfc2217"]', `127.0.0.1:${lp2}`);
    await page.click('#port-save');
    await until('the listener saved', async () => (await gw.api('GET', '/ports/plain')).data.rfc2217 === `127.0.0.1:${lp2}`);
    await box().waitFor({ state: 'visible' });
    assert.equal(await urlOf().textContent(), `rfc2217://127.0.0.1:${lp2}`);
    assert.equal((await firstBytes(lp2))[0], 0xff);
    await page.click('#console-edit');
    await page.fill('#port-form [name="rfc2217"]', '');
    await page.click('#port-save');
    await until('the listener gone', async () => (await gw.api('GET', '/ports/plain')).data.rfc2217 === null);
    await box().waitFor({ state: 'hidden' });
    assert.equal(await urlOf().count(), 0);
  });

  step('the form makes a port of kind rfc2217 (server URL and line settings shown for it)', async () => {
    await page.goto(`${gw.url}/#/ports`);
    await page.click('#add-port');
    await page.fill('#port-form [name="name"]', 'far');
    await page.selectOption('#port-form [name="kind"]', 'rfc2217');
    const dev = page.locator('#port-form [name="device"]');
    await dev.waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#device-label'), 'Server URL');
    assert.equal(await dev.getAttribute('placeholder'), 'rfc2217://HOST:PORT');
    await dev.fill(`rfc2217://127.0.0.1:${lp}`);       // the port `net` served above
    await page.fill('#port-form [name="baud"]', '38400');
    await page.click('#port-save');
    const r = await until('the port made', async () => {
      const x = await gw.api('GET', '/ports/far');
      return x.status === 200 && x.data;
    });
    assert.equal(r.kind, 'rfc2217');
    assert.equal(r.device, `rfc2217://127.0.0.1:${lp}`);
    assert.equal(r.baud, 38400);
    assert.equal(r.rfc2217, null);
    // it reaches `net`'s listener: `net` gets its client, at its 38400
    await until('net opened by the rfc2217 port', async () => {
      const st = (await gw.api('GET', '/ports/net')).data.state;
      return st.open && st.baud === 38400;
    });
    assert.equal((await gw.api('DELETE', '/ports/far')).status, 204);
  });

  step('a non-loopback listener: the URL at the gateway\'s address and the no-authentication warning', async () => {
    // A test may listen on loopback only, so what the gateway tells the
    // page (GET /ports and the websocket's hello and port events) is
    // changed on its way: the port's listener reads 0.0.0.0:4001 (every
    // address), and the page is opened as localhost.
    const widen = (p) => { if (p && p.name === 'net') p.rfc2217 = '0.0.0.0:4001'; };
    const other = await newPage(browser);
    await other.route('**/api/v1/ports', async (route) => {
      const res = await route.fetch();
      const list = await res.json();
      list.forEach(widen);
      await route.fulfill({ response: res, json: list });
    });
    await other.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        let j;
        try { j = JSON.parse(String(m)); } catch { ws.send(m); return; }
        if (j.type === 'hello' && Array.isArray(j.ports)) j.ports.forEach(widen);
        if (j.type === 'port') widen(j.port);
        ws.send(JSON.stringify(j));
      });
    });
    await other.goto(`http://localhost:${gw.http}/#/port/net`);
    const b = other.locator('#rfc2217-box');
    await b.waitFor({ state: 'visible' });
    assert.equal(await b.locator('[data-rfc2217-url]').textContent(), 'rfc2217://localhost:4001');
    const w = b.locator('[data-rfc2217-warning]');
    assert.match(await w.textContent(), /no authentication.*localhost:4001.*trusted networks.*tunnel/s);
    assert.equal(await b.locator('[data-rfc2217-loopback]').count(), 0);
    assert.deepEqual(other.errors, []);
    await b.screenshot({ path: path.join(ARTIFACTS, 'rfc2217-wide.png') });
    await other.context().close();
  });

  step('addresses: loopback, wildcard, IPv6, and what is not ADDR:PORT', async () => {
    const got = await page.evaluate(async () => {
      const { rfc2217Reach } = await import('/rfc2217.js');
      const f = (a, h) => { const r = rfc2217Reach(a, h); return r && [r.url, r.loopback, r.wildcard]; };
      return {
        lo: f('127.0.0.1:4001', 'gw'), lo2: f('127.1.2.3:1', 'gw'), v6lo: f('[::1]:4001', 'gw'),
        any: f('0.0.0.0:4001', 'gw.lan'), v6any: f('[::]:4001', '[fd00::1]'), remote: f('0.0.0.0:4001', null),
        lan: f('192.0.2.7:4001', 'gw'),
        bad: [f('4001'), f('127.0.0.1:0'), f('127.0.0.1:70000'), f(''), f(null), f('[::1]4001')],
      };
    });
    assert.deepEqual(got.lo, ['rfc2217://127.0.0.1:4001', true, false]);
    assert.deepEqual(got.lo2, ['rfc2217://127.1.2.3:1', true, false]);
    assert.deepEqual(got.v6lo, ['rfc2217://[::1]:4001', true, false]);
    assert.deepEqual(got.any, ['rfc2217://gw.lan:4001', false, true]);
    assert.deepEqual(got.v6any, ['rfc2217://[fd00::1]:4001', false, true]);
    assert.deepEqual(got.remote, ['rfc2217://GATEWAY-HOST:4001', false, true]);
    assert.deepEqual(got.lan, ['rfc2217://192.0.2.7:4001', false, false]);
    assert.deepEqual(got.bad, [null, null, null, null, null, null]);
  });
});
