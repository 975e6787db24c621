// A port served as RFC 2217 (its `rfc2217` setting): how a network serial
// client reaches it, with lines to copy, and the warning that RFC 2217 has
// no authentication when the listener is not on loopback.
'use strict';

import { el } from './util.js';

const unbracket = (h) => h.replace(/^\[|\]$/g, '').toLowerCase();
const V6_ANY = ['::', '0:0:0:0:0:0:0:0'];
const V6_LOOPBACK = ['::1', '0:0:0:0:0:0:0:1'];

// addr as the port stores it ("127.0.0.1:4001", "0.0.0.0:4001",
// "[::1]:4001") → {host, port, url, loopback, wildcard}, or null if it is
// not ADDR:PORT. A wildcard listener (0.0.0.0, [::]) is reached at the
// gateway's own address: pageHost (the host this page came from), or a
// placeholder where that is not known (a port of another gateway).
export function rfc2217Reach(addr, pageHost) {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z.-]+):(\d{1,5})$/.exec(String(addr || '').trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  const bare = unbracket(m[1]);
  const wildcard = bare === '0.0.0.0' || V6_ANY.includes(bare);
  const loopback = /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === 'localhost' || V6_LOOPBACK.includes(bare);
  const host = wildcard ? (pageHost || 'GATEWAY-HOST') : m[1];
  return { host, port, url: `rfc2217://${host}:${port}`, loopback, wildcard };
}

// The lines a person copies to reach r (from rfc2217Reach).
export function rfc2217Examples(r) {
  const bare = r.host.replace(/^\[|\]$/g, '');
  return [
    { what: 'Python (pyserial)', line: `serial.serial_for_url("${r.url}", baudrate=9600, timeout=1)` },
    { what: 'Terminal (pyserial)', line: `python3 -m serial.tools.miniterm ${r.url} 9600` },
    { what: 'Windows COM port (com0com pair + hub4com)', line: `com2tcp-rfc2217.bat \\\\.\\CNCB0 ${bare} ${r.port}` },
  ];
}

function copyButton(text, label) {
  return el('button', { type: 'button', class: 'ghost small copy', 'data-copy': text, 'aria-label': `Copy ${label}` }, 'Copy');
}

// Fill box (the console's RFC 2217 section) for port p; hidden when p has
// no listener. pageHost: see rfc2217Reach.
export function renderRfc2217(box, p, pageHost) {
  const r = p && p.rfc2217 ? rfc2217Reach(p.rfc2217, pageHost) : null;
  const key = r ? `${p.rfc2217} ${r.url}` : '';
  box.hidden = !r;
  box.dataset.url = r ? r.url : '';
  if (box.dataset.key === key) return;   // unchanged: keep its buttons as they are
  box.dataset.key = key;
  if (!r) { box.replaceChildren(); return; }
  const tunnel = `ssh -L ${r.port}:127.0.0.1:${r.port} GATEWAY-HOST`;
  const nodes = [
    el('h4', null, 'Network serial (RFC 2217)'),
    el('p', { class: 'rfc-url' }, el('code', { 'data-rfc2217-url': '' }, r.url), ' ', copyButton(r.url, 'the RFC 2217 URL')),
    el('ul', { class: 'rfc-examples' }, ...rfc2217Examples(r).map((x) => el('li', null,
      el('span', { class: 'muted' }, x.what), el('code', null, x.line), copyButton(x.line, x.what)))),
    el('p', { class: 'hint' }, `One client at a time; while it is connected it is the port's application (rx goes to it). Listening on ${p.rfc2217}.`),
  ];
  if (r.loopback) {
    nodes.push(el('p', { class: 'hint', 'data-rfc2217-loopback': '' },
      'On loopback: only programs on the gateway\'s machine can connect. From elsewhere, through a tunnel: ',
      el('code', null, tunnel)));
  } else {
    nodes.push(el('p', { class: 'warning', role: 'note', 'data-rfc2217-warning': '' },
      `⚠ RFC 2217 has no authentication and sends everything in clear text: anyone who can reach ${r.host}:${r.port} can use this port (the gateway's password does not protect it). Use it on trusted networks only, or listen on 127.0.0.1 and reach it through a tunnel (`,
      el('code', null, tunnel), ').'));
  }
  box.replaceChildren(...nodes);
}
