// Shared parts of the browser tests: gateways of our own (started, stopped
// and killed by PID), the browser, links opened like an application, and
// polling. run.sh gives the binary and a private broker:
//
//   MQTTTY_BIN     the gateway binary
//   MQTTTY_BROKER  mqtt://127.0.0.1:PORT of the private Mosquitto
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(HERE, 'artifacts');
export const BIN = process.env.MQTTTY_BIN || '';
export const BROKER = process.env.MQTTTY_BROKER || '';
export const BROWSER = process.env.MQTTTY_CHROMIUM || '/usr/bin/chromium';
export const WAIT = 10_000;
export const missingEnv = !BIN || !BROKER ? 'set MQTTTY_BIN and MQTTTY_BROKER (run.sh does)' : false;

// Poll fn() until it returns a truthy value or the deadline passes.
export async function until(what, fn, ms = WAIT) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(100);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

export const exists = (p) => { try { fs.lstatSync(p); return true; } catch { return false; } };

// One gateway of a test, in its own directory. start() may be repeated: it
// keeps its db, link dir and HTTP port.
export class Gateway {
  constructor(id, { ports = [], prefix = null, dir = null } = {}) {
    this.id = id;
    this.ports = ports;
    this.prefix = prefix;
    this.dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), `mqttty-br-${id}-`));
    this.links = path.join(this.dir, 'links');
    this.proc = null;
    this.http = 0;
    this.runs = 0;
  }

  get url() { return `http://127.0.0.1:${this.http}`; }
  link(name) { return path.join(this.links, name); }

  async start() {
    if (!this.http) this.http = await freePort();
    const args = ['serve', '--broker', BROKER, '--id', this.id, '--db', path.join(this.dir, 'mqttty.db'),
      '--link-dir', this.links, '--http', `127.0.0.1:${this.http}`];
    if (this.prefix) args.push('--prefix', this.prefix);
    for (const p of this.ports) args.push('--port', p);
    const log = fs.openSync(path.join(this.dir, `gateway-${++this.runs}.log`), 'w');
    this.proc = spawn(BIN, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const proc = this.proc;
    await until(`gateway ${this.id} to listen on ${this.http}`, async () => {
      if (proc.exitCode !== null) throw new Error(`gateway ${this.id} exited with ${proc.exitCode}: ${this.logTail()}`);
      return accepts(this.http);
    });
    await until(`gateway ${this.id} to reach the broker`, async () => {
      const r = await fetch(`${this.url}/api/v1/status`);
      return (await r.json()).broker.connected;
    });
  }

  // SIGTERM (clean: publishes offline) or SIGKILL (the broker sends the will).
  async stop(signal = 'SIGTERM') {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) { this.proc = null; return; }
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await Promise.race([gone, sleep(8000)]);
    if (proc.exitCode === null && !proc.signalCode) { proc.kill('SIGKILL'); await gone; }
    this.proc = null;
  }

  logTail() {
    try {
      const f = path.join(this.dir, `gateway-${this.runs}.log`);
      return fs.readFileSync(f, 'utf8').split('\n').slice(-30).join('\n');
    } catch { return ''; }
  }

  async api(method, p, body) {
    const opt = { method, headers: {} };
    if (body !== undefined) {
      if (body instanceof Uint8Array || Buffer.isBuffer(body)) {
        opt.headers['Content-Type'] = 'application/octet-stream';
        opt.body = body;
      } else {
        opt.headers['Content-Type'] = 'application/json';
        opt.body = JSON.stringify(body);
      }
    }
    const r = await fetch(`${this.url}/api/v1${p}`, opt);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    return { status: r.status, data };
  }

  // Sanitizer reports in any run's log (an ASan build: MQTTTY_BIN=build-asan/mqttty).
  sanitizerReports() {
    const out = [];
    for (let i = 1; i <= this.runs; i++) {
      let text = '';
      try { text = fs.readFileSync(path.join(this.dir, `gateway-${i}.log`), 'utf8'); } catch { continue; }
      for (const mark of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:']) {
        if (text.includes(mark)) out.push(`${this.id} run ${i}: ${mark}`);
      }
    }
    return out;
  }

  async cleanup() {
    await this.stop();
    const bad = this.sanitizerReports();
    if (bad.length) {
      console.log(this.logTail());
      throw new Error(`sanitizer reports: ${bad.join('; ')} (logs kept in ${this.dir})`);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function launch() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: BROWSER,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

// A page that records script errors and CSP violations.
export async function newPage(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (execute|apply|load|connect)/i.test(m.text())) page.errors.push(m.text());
  });
  return page;
}

// An application holding a port open: raw mode, non-blocking.
export class App {
  constructor(link) {
    const stty = spawnSync('stty', ['-F', link, 'raw', '-echo', '9600'], { timeout: 5000, encoding: 'utf8' });
    if (stty.status !== 0) throw new Error(`stty failed: ${stty.stderr || stty.error}`);
    this.fd = fs.openSync(link, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    this.got = Buffer.alloc(0);
  }

  write(s) { fs.writeSync(this.fd, Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1')); }

  async readUntil(want, ms = WAIT) {
    const end = Date.now() + ms;
    const buf = Buffer.alloc(4096);
    const w = Buffer.from(want, 'latin1');
    while (!this.got.includes(w)) {
      if (Date.now() > end) throw new Error(`timed out reading ${JSON.stringify(want)}; got ${JSON.stringify(this.got.toString('latin1'))}`);
      let n = 0;
      try { n = fs.readSync(this.fd, buf, 0, buf.length, null); } catch (e) {
        if (e.code !== 'EAGAIN' && e.code !== 'EWOULDBLOCK') throw e;
      }
      if (n > 0) this.got = Buffer.concat([this.got, buf.subarray(0, n)]);
      else await sleep(50);
    }
    return this.got;
  }

  close() { if (this.fd !== null) { try { fs.closeSync(this.fd); } catch { /* gone */ } this.fd = null; } }
}

// Steps that build on each other: after one fails, the rest are skipped.
export function stepper(test, timeout = 30_000) {
  let failed = null;
  return (name, fn, { always = false, ms = timeout } = {}) => {
    test(name, { timeout: ms }, async (t) => {
      if (failed && !always) { t.skip(`skipped: "${failed}" failed`); return; }
      try { await fn(t); } catch (e) { failed ||= name; throw e; }
    });
  };
}
