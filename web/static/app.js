// mqttty dashboard. No framework, no build step: the gateway serves these
// files as they are, under a CSP that forbids inline scripts and styles, so
// every handler is attached here and the look lives in style.css.
//
// Views (the URL's hash): #/ports, #/port/NAME (a port's console),
// #/fleet, #/fleet/GATEWAY/PORT (a remote port's console).
'use strict';

import {
  el, b64decode, b64encode, parseEscapes, parseHex, textNodes, isBinary, hexDump,
  fmtBytes, fmtAgo, fmtClock, fmtGap, lineOf, api, portPath, copyText,
} from './util.js';
import { PRESETS, frameText, frameMatches } from './presets.js';
import { createFleet } from './fleet.js';
import { createForm } from './form.js';
import { renderRfc2217 } from './rfc2217.js';

const TRAFFIC_MAX = 500;       // entries kept per port (the gateway keeps as many)
const TEXT_MAX = 2048;         // bytes shown as text per entry (all of them in the hex view)
const WS_RETRY = [300, 1000, 2000];   // ms between reconnects: quick, capped at 2 s
const SEND_HISTORY = 20;

const $ = (id) => document.getElementById(id);
const els = {
  gwId: $('gw-id'), gwVersion: $('gw-version'), broker: $('broker'), link: $('link'),
  portCount: $('port-count'), notice: $('notice'), noticeText: $('notice-text'),
  offline: $('offline'), offlineText: $('offline-text'), retryNow: $('retry-now'),
  ports: $('ports'), portsTable: $('ports-table'), noPorts: $('no-ports'), addPort: $('add-port'),
  viewPorts: $('view-ports'), viewConsole: $('view-console'), viewFleet: $('view-fleet'),
  tabPorts: $('tab-ports'), tabFleet: $('tab-fleet'),
  cTitle: $('console-title'), cBadge: $('console-badge'), cLine: $('console-line'),
  cProblem: $('console-problem'), cBack: $('console-back'), cActions: $('console-actions'),
  cToggle: $('console-toggle'), cEdit: $('console-edit'), cRemove: $('console-remove'),
  traffic: $('traffic'), trafficEmpty: $('traffic-empty'), trafficInfo: $('traffic-info'),
  pause: $('traffic-pause'), clear: $('traffic-clear'), dlText: $('dl-text'), dlCsv: $('dl-csv'),
  sendForm: $('send-form'), sendTarget: $('send-target'), sendStatus: $('send-status'),
  preset: $('preset'), quick: $('quick'), presetFraming: $('preset-framing'),
  details: $('details'), lines: $('lines'), linesBox: $('lines-box'), linesHint: $('lines-hint'),
  remoteLine: $('remote-line'), remoteLineForm: $('remote-line-form'),
  cable: $('cable'), topics: $('topics'), rfc2217Box: $('rfc2217-box'),
  portDialog: $('port-dialog'), portForm: $('port-form'), portTitle: $('port-dialog-title'),
  portError: $('port-form-error'), portCancel: $('port-cancel'), deviceFields: $('device-fields'),
  confirmDialog: $('confirm-dialog'), confirmTitle: $('confirm-title'), confirmText: $('confirm-text'),
  confirmOk: $('confirm-ok'),
  signIn: $('sign-in'), loginDialog: $('login-dialog'), loginForm: $('login-form'), loginError: $('login-error'),
};

const st = {
  status: null,
  ports: new Map(),          // name -> port object (with state)
  rows: new Map(),           // name -> <tr>
  activity: new Map(),       // name -> ms of the last traffic or counter change
  problems: new Map(),       // name -> sentence
  traffic: new Map(),        // key ("L:name" / "R:gw/name") -> [{dir, src, ts, bytes, gap}]
  loaded: new Set(),         // keys whose kept traffic was fetched from the gateway
  schema: null,
  view: { page: 'ports' },
  filter: 'all', paused: false, missed: 0,
  editing: null, loginShown: false,
  ws: null, wsTimer: 0, wsTries: 0, live: false, lastLive: 0, countdown: 0,
  sendHistory: [], historyPos: -1,
  countdownTimer: 0,
};

// ---------- notices, confirm ----------

function showNotice(text) {
  els.noticeText.textContent = text;
  els.notice.hidden = false;
}
$('notice-close').addEventListener('click', () => { els.notice.hidden = true; });

// A confirmation in our own dialog (so it can say why, and tests can read it).
function confirmAction(title, text, okLabel) {
  return new Promise((resolve) => {
    els.confirmTitle.textContent = title;
    els.confirmText.textContent = text;
    els.confirmOk.textContent = okLabel;
    const d = els.confirmDialog;
    const done = () => { d.removeEventListener('close', done); resolve(d.returnValue === 'ok'); };
    d.returnValue = '';
    d.addEventListener('close', done);
    d.showModal();
    $('confirm-cancel').focus();
  });
}

// ---------- header and health ----------

function applyStatus(s) {
  if (!s) return;
  st.status = s;
  els.gwId.textContent = s.id || '–';
  els.gwVersion.textContent = s.version ? `v${s.version}` : '';
  document.title = s.id ? `mqttty · ${s.id}` : 'mqttty';
  if (s.broker) setBroker(!!s.broker.connected, s.broker.uri);
  if (s.problems && typeof s.problems === 'object') {
    const old = new Set(st.problems.keys());
    st.problems = new Map(Object.entries(s.problems));
    for (const n of new Set([...old, ...st.problems.keys()])) renderRow(n);
  }
  fleet.setSelf(s.id, s.prefix);
}

function setBroker(connected, uri) {
  if (connected !== null) fleet.setBroker(connected);
  els.broker.dataset.connected = connected === null ? 'unknown' : String(connected);
  els.broker.textContent = connected === null ? 'Broker: unknown' : connected ? 'Broker connected' : 'Broker disconnected';
  if (uri !== undefined) els.broker.title = uri ? `broker ${uri}` : '';
}

function setLink(state) {
  els.link.dataset.state = state;
  els.link.textContent = { live: 'Live', connecting: 'Connecting…', down: 'Gateway unreachable', auth: 'Signed out' }[state] || state;
  const stale = state === 'down';
  document.body.classList.toggle('stale', stale);
  els.offline.hidden = !stale;
  if (stale) setBroker(null);
  renderSendState();
}

function updateOfflineText() {
  const since = st.lastLive ? ` Last update ${fmtClock(st.lastLive).slice(0, 8)}.` : '';
  const next = st.countdown > 0 ? ` Trying again in ${Math.ceil(st.countdown / 1000)} s.` : ' Trying again now…';
  els.offlineText.textContent = `What you see below may be out of date.${since}${next}`;
}

function updateCount() {
  els.portCount.textContent = String(st.ports.size);
  els.noPorts.hidden = st.ports.size > 0;
  els.portsTable.hidden = st.ports.size === 0;
}

// ---------- port rows ----------

function buildRow(name) {
  const cell = (field, label, extra) => el('td', Object.assign({ 'data-field': field, 'data-label': label }, extra || {}));
  const tr = el('tr', { 'data-port': name });
  tr.append(
    el('th', { scope: 'row', 'data-field': 'name' },
      el('a', { class: 'name', href: `#/port/${encodeURIComponent(name)}`, title: 'Open the console' }, name)),
    cell('path', 'Path'), cell('kind', 'Kind'), cell('open', 'Status'), cell('line', 'Line'),
    cell('frame', 'Framing'), cell('peer', 'Peer'),
    cell('tx_bytes', 'TX', { class: 'num' }), cell('rx_bytes', 'RX', { class: 'num' }),
    cell('dropped', 'Dropped', { class: 'num' }), cell('activity', 'Last activity'),
    el('td', { class: 'row-actions', 'data-field': 'actions' },
      el('button', { type: 'button', class: 'ghost small', 'data-action': 'edit', 'aria-label': `Edit port ${name}` }, 'Edit'),
      el('button', { type: 'button', class: 'danger small', 'data-action': 'remove', 'aria-label': `Remove port ${name}` }, 'Remove')),
  );
  return tr;
}

function setCell(tr, field, text, attrs) {
  const td = tr.querySelector(`[data-field="${field}"]`);
  if (td.textContent !== text) td.textContent = text;
  if (attrs) for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) td.removeAttribute(k); else td.setAttribute(k, String(v));
  }
  return td;
}

// {label, cls} of a port's status badge
function statusOf(p, problem) {
  const s = p.state || {};
  if (p.enabled === false) return { label: 'disabled', cls: 'off' };
  if (problem) return { label: s.open ? 'open · problem' : 'problem', cls: 'bad' };
  if (s.open) return { label: 'open', cls: 'ok' };
  return { label: p.kind === 'device' ? 'closed' : 'no application', cls: 'idle' };
}

function renderRow(name) {
  const p = st.ports.get(name);
  if (!p) return;
  let tr = st.rows.get(name);
  if (!tr) {
    tr = buildRow(name);
    st.rows.set(name, tr);
    const after = [...st.rows.keys()].filter((n) => n > name && st.rows.get(n).isConnected).sort()[0];
    els.ports.insertBefore(tr, after ? st.rows.get(after) : null);
  }
  const s = p.state || {};
  const problem = st.problems.get(name) || null;
  tr.dataset.open = String(s.open === true);
  tr.dataset.kind = p.kind || '';
  tr.dataset.enabled = String(p.enabled !== false);
  tr.classList.toggle('has-problem', !!problem);

  const path = p.path || p.device || '–';
  const pathTd = tr.querySelector('[data-field="path"]');
  if (pathTd.textContent !== path || !pathTd.firstElementChild) {
    pathTd.replaceChildren(el('code', null, path));
    pathTd.title = path;
  }
  setCell(tr, 'kind', p.kind || '–');

  const stat = statusOf(p, problem);
  const statusTd = tr.querySelector('[data-field="open"]');
  statusTd.dataset.value = String(s.open === true);
  const key = `${stat.label}|${problem || ''}`;
  if (statusTd.dataset.key !== key) {
    statusTd.dataset.key = key;
    statusTd.replaceChildren(el('span', { class: `badge ${stat.cls}` }, stat.label),
      ...(problem ? [el('span', { class: 'problem', 'data-field': 'problem' }, problem)] : []));
  }

  const line = lineOf(p);
  const lineTd = setCell(tr, 'line', line.text, { title: line.title });
  lineTd.classList.toggle('configured', line.configured);
  setCell(tr, 'frame', frameText(p.frame));
  const peerTd = tr.querySelector('[data-field="peer"]');
  const peerKey = p.peer || '';
  if (peerTd.dataset.key !== peerKey) {
    peerTd.dataset.key = peerKey;
    peerTd.replaceChildren(p.peer ? el('a', { href: `#/fleet/${p.peer}`, title: 'Open the peer' }, p.peer) : '–');
  }
  for (const k of ['tx_bytes', 'rx_bytes', 'dropped']) {
    const v = typeof s[k] === 'number' ? s[k] : null;
    const td = setCell(tr, k, k === 'dropped' ? (v === null ? '–' : String(v)) : fmtBytes(v), { 'data-value': v, title: v === null ? null : `${v} bytes` });
    if (k === 'dropped') td.classList.toggle('warn', v > 0);
  }
  renderActivity(name);
  if (st.view.page === 'port' && st.view.name === name) renderConsoleHead();
}

function renderActivity(name) {
  const tr = st.rows.get(name);
  if (!tr) return;
  const ms = st.activity.get(name);
  const td = tr.querySelector('[data-field="activity"]');
  const text = ms ? fmtAgo(ms) : '–';
  if (td.textContent !== text) td.textContent = text;
  if (ms) td.title = new Date(ms).toLocaleString(); else td.removeAttribute('title');
}

const countersMoved = (a, b) => a.tx_bytes !== b.tx_bytes || a.rx_bytes !== b.rx_bytes;

function upsertPort(p, fromEvent) {
  if (!p || typeof p.name !== 'string') return;
  const old = st.ports.get(p.name);
  if (old && old.state && p.state && fromEvent && countersMoved(old.state, p.state)) st.activity.set(p.name, Date.now());
  st.ports.set(p.name, p);
  renderRow(p.name);
  updateCount();
  if (st.view.page === 'port' && st.view.name === p.name) renderConsole();
}

function removePort(name) {
  st.ports.delete(name);
  st.traffic.delete(`L:${name}`);
  st.loaded.delete(`L:${name}`);
  st.activity.delete(name);
  const tr = st.rows.get(name);
  if (tr) tr.remove();
  st.rows.delete(name);
  updateCount();
  if (st.view.page === 'port' && st.view.name === name) renderConsole();
}

function replacePorts(list) {
  const names = new Set(list.map((p) => p.name));
  for (const name of [...st.ports.keys()]) if (!names.has(name)) removePort(name);
  for (const p of list) upsertPort(p, false);
  updateCount();
}

function applyState(name, state) {
  const p = st.ports.get(name);
  if (!p || !state) return;
  if (p.state && countersMoved(p.state, state)) st.activity.set(name, Date.now());
  p.state = state;
  renderRow(name);
  if (st.view.page === 'port' && st.view.name === name) renderDetails();
}

els.ports.addEventListener('click', (ev) => {
  const btn = ev.target.closest('button[data-action]');
  if (!btn) return;
  const name = btn.closest('tr[data-port]').dataset.port;
  if (btn.dataset.action === 'edit') openForm(name);
  else if (btn.dataset.action === 'remove') removeViaApi(name);
});

async function removeViaApi(name) {
  const p = st.ports.get(name);
  if (!p) return;
  const open = p.state && p.state.open;
  const what = p.kind === 'device' ? `the gateway holds ${p.device || 'the device'} open` : 'an application holds it open';
  const text = open
    ? `${name} is in use: ${what}. Removing it cuts it off at once — the application gets an error on every read and write.${p.path ? ` Its link ${p.path} disappears.` : ''}`
    : `Remove port ${name}?${p.path ? ` Its link ${p.path} disappears.` : ''}`;
  if (!(await confirmAction(open ? `Remove ${name} while it is open?` : `Remove ${name}?`, text, 'Remove'))) return;
  const r = await api('DELETE', portPath(name));
  if (r.ok || r.status === 404) {
    removePort(name);
    if (st.view.page === 'port' && st.view.name === name) location.hash = '#/ports';
  } else if (r.status === 401) showLogin();
  else showNotice(`Could not remove ${name}: ${r.error}`);
}

// ---------- traffic ----------

const keyOf = (v) => (v.page === 'remote' ? `R:${v.gw}/${v.name}` : `L:${v.name}`);
const currentKey = () => (st.view.page === 'port' || st.view.page === 'remote' ? keyOf(st.view) : null);

function pushEntry(key, e) {
  let list = st.traffic.get(key);
  if (!list) st.traffic.set(key, list = []);
  const prev = list[list.length - 1];
  e.gap = prev ? e.ts - prev.ts : null;
  list.push(e);
  if (list.length > TRAFFIC_MAX) list.splice(0, list.length - TRAFFIC_MAX);
  return list;
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// The gateway's kept messages merged with what came live meanwhile.
function mergeKept(key, kept) {
  const live = st.traffic.get(key) || [];
  const out = [];
  for (const m of kept) {
    let bytes;
    try { bytes = b64decode(m.data); } catch { continue; }
    out.push({ dir: m.dir, src: m.src || 'port', ts: m.ts, bytes });
  }
  const lastTs = out.length ? out[out.length - 1].ts : 0;
  for (const e of live) {
    if (e.ts < lastTs - 2000) continue;
    if (out.some((k) => k.ts >= e.ts - 2000 && k.dir === e.dir && sameBytes(k.bytes, e.bytes) && Math.abs(k.ts - e.ts) < 2000)) continue;
    out.push(e);
  }
  out.sort((a, b) => a.ts - b.ts);
  st.traffic.set(key, []);
  for (const e of out) pushEntry(key, e);
  st.loaded.add(key);
}

async function loadKept(v) {
  const key = keyOf(v);
  if (v.page === 'port') {
    const r = await api('GET', `${portPath(v.name)}/traffic`);
    if (r.ok && r.data && Array.isArray(r.data.messages)) mergeKept(key, r.data.messages);
  } else {
    const r = await fleet.watchPort(v.gw, v.name);
    if (r.ok && r.data && Array.isArray(r.data.messages)) mergeKept(key, r.data.messages);
    else if (!r.ok) setStatus(`Cannot follow this port's traffic: ${r.error}`, 'error');
  }
  if (currentKey() === key) renderTraffic();
}

function addTraffic(key, msg, src) {
  let bytes;
  try { bytes = b64decode(msg.data); } catch { return; }
  const e = { dir: msg.dir, src, ts: typeof msg.ts === 'number' ? msg.ts : Date.now(), bytes };
  pushEntry(key, e);
  if (key !== currentKey()) return;
  if (st.paused) { st.missed++; updateTrafficInfo(); return; }
  pendingAppend.push(e);
  if (!appendScheduled) {
    appendScheduled = true;
    requestAnimationFrame(flushAppend);
  }
}

function shown(e) {
  switch (st.filter) {
    case 'tx': return e.dir === 'tx';
    case 'rx': return e.dir === 'rx' && e.src !== 'api';
    case 'api': return e.src === 'api';
    default: return true;
  }
}

function dirLabel(e) {
  if (e.dir === 'tx') return { text: 'TX', title: 'sent by the application/device, to MQTT' };
  if (e.src === 'api') return { text: 'RX·dash', title: 'sent from a dashboard (or the API) to the application' };
  if (e.src === 'peer') return { text: 'RX·peer', title: "delivered to the application, from the peer's tx" };
  return { text: 'RX', title: 'delivered to the application, from MQTT' };
}

function entryNode(e) {
  const d = dirLabel(e);
  const bin = isBinary(e.bytes);
  const cut = e.bytes.length > TEXT_MAX ? e.bytes.subarray(0, TEXT_MAX) : e.bytes;
  const body = el('span', { class: `text${bin ? ' binary' : ''}` });
  if (bin) body.append(el('span', { class: 'hexline' }, [...cut.subarray(0, 48)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ') + (e.bytes.length > 48 ? ' …' : '')));
  else body.append(...textNodes(cut));
  if (!bin && e.bytes.length > TEXT_MAX) body.append(el('span', { class: 'more' }, ` … ${e.bytes.length - TEXT_MAX} more bytes in the hex view`));
  const details = el('details', { class: 'bytes' }, el('summary', null, 'hex'));
  details.addEventListener('toggle', () => {
    if (details.open && !details.querySelector('pre')) details.append(el('pre', { class: 'dump' }, hexDump(e.bytes)));
  }, { once: false });
  return el('li', { class: `entry ${e.dir}${e.src === 'api' ? ' api' : ''}`, 'data-dir': e.dir, 'data-src': e.src },
    el('time', { datetime: new Date(e.ts).toISOString() }, fmtClock(e.ts)),
    el('span', { class: 'gap', title: 'time since the message before' }, fmtGap(e.gap)),
    el('span', { class: 'dir', title: d.title }, d.text),
    el('span', { class: 'len' }, `${e.bytes.length} B`),
    body, details);
}

let pendingAppend = [];
let appendScheduled = false;

function nearBottom() {
  const t = els.traffic;
  return t.scrollHeight - t.scrollTop - t.clientHeight < 40;
}

function renderTraffic() {
  const key = currentKey();
  const list = (key && st.traffic.get(key)) || [];
  pendingAppend = [];
  els.traffic.replaceChildren(...list.filter(shown).map(entryNode));
  els.traffic.scrollTop = els.traffic.scrollHeight;
  updateTrafficInfo();
}

function updateTrafficInfo() {
  const key = currentKey();
  const list = (key && st.traffic.get(key)) || [];
  const n = els.traffic.childElementCount;
  els.trafficEmpty.hidden = n > 0;
  els.trafficEmpty.textContent = list.length ? 'Nothing matches this filter.' : 'No traffic yet.';
  let info = `${list.length} of the last ${TRAFFIC_MAX} messages`;
  if (st.paused) info += st.missed ? ` · paused, ${st.missed} new` : ' · paused';
  els.trafficInfo.textContent = info;
}

function flushAppend() {
  appendScheduled = false;
  const batch = pendingAppend.filter(shown);
  pendingAppend = [];
  if (st.paused || !currentKey()) return;
  const stick = nearBottom();
  const frag = document.createDocumentFragment();
  for (const e of batch.slice(-TRAFFIC_MAX)) frag.append(entryNode(e));
  els.traffic.append(frag);
  while (els.traffic.childElementCount > TRAFFIC_MAX) els.traffic.firstElementChild.remove();
  if (stick) els.traffic.scrollTop = els.traffic.scrollHeight;
  updateTrafficInfo();
}

for (const b of document.querySelectorAll('[data-filter]')) {
  b.addEventListener('click', () => {
    st.filter = b.dataset.filter;
    for (const x of document.querySelectorAll('[data-filter]')) x.setAttribute('aria-pressed', String(x === b));
    renderTraffic();
  });
}
els.pause.addEventListener('click', () => {
  st.paused = !st.paused;
  els.pause.setAttribute('aria-pressed', String(st.paused));
  els.pause.textContent = st.paused ? 'Resume' : 'Pause';
  if (!st.paused) { st.missed = 0; renderTraffic(); } else updateTrafficInfo();
});
els.clear.addEventListener('click', () => {
  const key = currentKey();
  if (key) st.traffic.set(key, []);
  st.missed = 0;
  renderTraffic();
});

// ---------- the console (one port, local or remote) ----------

function consolePort() {
  const v = st.view;
  if (v.page === 'port') return st.ports.get(v.name) || null;
  if (v.page === 'remote') return fleet.port(v.gw, v.name);
  return null;
}

function topicBase() {
  const v = st.view;
  const prefix = fleet.prefix();
  const gw = v.page === 'remote' ? v.gw : (st.status && st.status.id);
  return `${prefix}/${gw}/${v.name}`;
}

function renderConsoleHead() {
  const v = st.view;
  const p = consolePort();
  const remote = v.page === 'remote';
  els.cTitle.textContent = remote ? `${v.gw} / ${v.name}` : v.name;
  els.cBack.textContent = remote ? '← Fleet' : '← All ports';
  els.cBack.href = remote ? '#/fleet' : '#/ports';
  els.cActions.hidden = remote;
  if (!p) {
    els.cBadge.className = 'badge bad';
    els.cBadge.textContent = remote ? 'not seen' : 'no such port';
    els.cLine.textContent = '';
    els.cProblem.hidden = true;
    return;
  }
  const problem = remote ? null : st.problems.get(v.name);
  let stat = statusOf(p, problem);
  if (remote && fleet.online(v.gw) === false) stat = { label: 'gateway offline', cls: 'bad' };
  els.cBadge.className = `badge ${stat.cls}`;
  els.cBadge.textContent = stat.label;
  const line = lineOf(p);
  els.cLine.textContent = `${line.text}${line.configured ? ' (configured)' : ''}`;
  els.cLine.title = line.title;
  els.cProblem.hidden = !problem;
  els.cProblem.textContent = problem ? `Problem: ${problem}` : '';
  els.cToggle.textContent = p.enabled === false ? 'Enable' : 'Disable';
}

function kv(dt, dd) {
  return [el('dt', null, dt), el('dd', null, dd)];
}

function renderDetails() {
  const v = st.view;
  const p = consolePort();
  const remote = v.page === 'remote';
  renderConsoleHead();
  if (!p) {
    els.details.replaceChildren(...kv('Port', remote ? 'not seen on the broker (yet)' : 'removed'));
    els.lines.replaceChildren();
    els.cable.replaceChildren();
    els.topics.replaceChildren();
    renderRfc2217(els.rfc2217Box, null);
    return;
  }
  const s = p.state || {};
  const dev = p.kind === 'device' || p.kind === 'rfc2217';
  const rows = [
    ...kv('Kind', p.kind || '–'),
    ...(dev ? kv(p.kind === 'rfc2217' ? 'Server' : 'Device', el('code', null, p.device || '–')) : kv('Link', el('code', null, p.path || '–'))),
    ...kv('Configured', dev ? `${p.baud} ${p.data_bits}${{ none: 'N', even: 'E', odd: 'O', mark: 'M', space: 'S' }[p.parity] || '?'}${p.stop_bits}, flow ${p.flow}` : 'set by the application'),
    ...kv('Framing', frameText(p.frame) + (p.frame && p.frame.max ? ` (max ${p.frame.max} B)` : '')),
    ...kv('QoS', String(p.qos ?? '–')),
    ...kv('Counters', `TX ${fmtBytes(s.tx_bytes)} · RX ${fmtBytes(s.rx_bytes)} · dropped ${s.dropped ?? '–'}`),
  ];
  if (dev) rows.push(...kv('Follow', p.follow ? 'yes: applies the peer\'s line state' : 'no'));
  if (p.enabled === false) rows.push(...kv('Enabled', 'no: the port has no link'));
  els.details.replaceChildren(...rows);
  renderLines(p, remote);
  renderRfc2217(els.rfc2217Box, p, remote ? null : location.hostname);
  renderCable(p, remote);
  renderTopics();
  els.remoteLine.hidden = !(remote && p.kind === 'device');
}

const LINE_KEYS = ['dtr', 'rts', 'cts', 'dsr', 'dcd', 'ri'];

function renderLines(p, remote) {
  const s = p.state || {};
  const settable = p.kind === 'device' ? ['dtr', 'rts'] : p.kind === 'cuse' ? ['cts', 'dsr', 'dcd', 'ri'] : [];
  if (p.kind === 'pty') {
    els.lines.replaceChildren();
    els.linesHint.textContent = 'A pty carries no modem lines (they are unknown, never guessed).';
    return;
  }
  const nodes = LINE_KEYS.map((k) => {
    const v = s[k];
    const label = `${k.toUpperCase()} ${v === null || v === undefined ? '–' : v ? 'on' : 'off'}`;
    if (!settable.includes(k)) return el('span', { class: `line-state ${v ? 'on' : ''}`, 'data-line': k, title: 'read only here' }, label);
    return el('button', { type: 'button', class: `small line-btn ${v ? 'on' : ''}`, 'data-line': k, 'aria-pressed': String(!!v), disabled: !s.open }, label);
  });
  els.lines.replaceChildren(...nodes);
  els.linesHint.textContent = !s.open ? 'Lines can be set while the port is open.'
    : p.kind === 'device' ? `DTR and RTS are set ${remote ? 'through the remote port\'s set topic' : 'on the device'}; raising one may key a transmitter.`
      : 'CTS/DSR/DCD/RI are what the application sees; DTR/RTS are its own.';
}

els.lines.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-line]');
  if (!b) return;
  const k = b.dataset.line;
  const p = consolePort();
  if (!p) return;
  const on = !(p.state && p.state[k]);
  if (on && (k === 'dtr' || k === 'rts') &&
      !(await confirmAction(`Raise ${k.toUpperCase()}?`, `Raising ${k.toUpperCase()} on ${st.view.name} can key a transmitter (PTT) or reset a board.`, `Raise ${k.toUpperCase()}`))) return;
  const r = await setLines({ [k]: on });
  if (!r.ok) setStatus(`${k.toUpperCase()} not changed: ${r.error}`, 'error');
  else setStatus(`${k.toUpperCase()} ${on ? 'on' : 'off'} asked${st.view.page === 'remote' ? ` (published to ${r.data && r.data.topic})` : ''}.`, 'ok');
});

function setLines(obj) {
  const v = st.view;
  if (v.page === 'remote') return api('POST', '/fleet/set', { gateway: v.gw, port: v.name, set: obj });
  return api('POST', `${portPath(v.name)}/set`, obj);
}

const FRAMINGS = ['8N1', '8E1', '8O1', '7E1', '7O1', '8N2'];
{
  const sel = els.remoteLineForm.elements.framing;
  sel.append(...FRAMINGS.map((f) => el('option', { value: f }, f)));
  els.remoteLineForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = sel.value;
    const set = { data_bits: Number(f[0]), parity: { N: 'none', E: 'even', O: 'odd' }[f[1]], stop_bits: Number(f[2]) };
    const baud = Number(els.remoteLineForm.elements.baud.value);
    if (baud) set.baud = baud;
    const r = await setLines(set);
    setStatus(r.ok ? `Line settings asked (published to ${r.data.topic}).` : `Not changed: ${r.error}`, r.ok ? 'ok' : 'error');
  });
}

function stateSummary(s) {
  if (!s) return 'no state';
  const line = lineOf({ state: s, kind: '' });
  return `${s.open ? 'open' : 'closed'} · ${line.text}`;
}

function renderCable(p, remote) {
  const v = st.view;
  const me = remote ? `${v.gw}/${v.name}` : `${st.status ? st.status.id : ''}/${v.name}`;
  const parts = [];
  if (p.peer) {
    const [pg, pn] = p.peer.split('/');
    const peer = fleet.port(pg, pn);
    const back = peer && peer.peer === me;
    const link = el('a', { href: `#/fleet/${pg}/${pn}` }, p.peer);
    parts.push(el('p', null, back ? 'Two-way cable to ' : 'Receives the tx of ', link,
      back ? '' : ' (one-way: it does not name this port back)'));
    const online = fleet.online(pg);
    parts.push(el('p', { class: 'peer-state', 'data-peer-state': '' },
      online === false ? el('span', { class: 'badge bad' }, 'gateway offline')
        : peer ? el('span', { class: `badge ${peer.state && peer.state.open ? 'ok' : 'idle'}` }, peer.state && peer.state.open ? 'open' : 'closed')
          : el('span', { class: 'badge idle' }, fleet.loaded() ? 'not seen' : 'looking…'),
      peer ? ` ${stateSummary(peer.state)}` : ''));
  } else {
    parts.push(el('p', { class: 'muted' }, 'No peer.'));
  }
  const from = fleet.peersOf(me).filter((x) => `${x.gw}/${x.name}` !== p.peer);
  if (from.length) {
    parts.push(el('p', null, 'Named as peer by ',
      ...from.flatMap((x, i) => [i ? ', ' : '', el('a', { href: `#/fleet/${x.gw}/${x.name}` }, `${x.gw}/${x.name}`)])));
  }
  els.cable.replaceChildren(...parts);
}

function renderTopics() {
  const base = topicBase();
  const list = [
    ['tx', 'what it sent'], ['rx', 'send to it'], ['state', 'retained line state'],
    ['set', 'line settings, modem lines'], ['event', 'breaks'],
  ];
  els.topics.replaceChildren(...list.map(([leaf, what]) => {
    const t = `${base}/${leaf}`;
    return el('li', null, el('code', null, t), el('span', { class: 'muted' }, ` ${what} `),
      el('button', { type: 'button', class: 'ghost small copy', 'data-copy': t, 'aria-label': `Copy ${t}` }, 'Copy'));
  }));
}

async function onCopy(ev) {
  const b = ev.target.closest('button[data-copy]');
  if (!b) return;
  const ok = await copyText(b.dataset.copy);
  b.textContent = ok ? 'Copied' : 'Copy failed';
  setTimeout(() => { b.textContent = 'Copy'; }, 1500);
}
els.topics.addEventListener('click', onCopy);
els.rfc2217Box.addEventListener('click', onCopy);

function renderConsole() {
  const v = st.view;
  els.sendTarget.textContent = v.page === 'remote' ? `${v.gw}/${v.name}` : v.name;
  const key = currentKey();
  const path = v.page === 'port' ? `/api/v1${portPath(v.name)}/traffic` : null;
  els.dlText.hidden = els.dlCsv.hidden = !path;
  if (path) {
    els.dlText.href = `${path}.txt`;
    els.dlText.setAttribute('download', `${v.name}-traffic.txt`);
    els.dlCsv.href = `${path}.csv`;
    els.dlCsv.setAttribute('download', `${v.name}-traffic.csv`);
  }
  renderDetails();
  renderPresetFraming();
  renderSendState();
  if (key && !st.loaded.has(key)) loadKept(v);
}

els.cToggle.addEventListener('click', async () => {
  const name = st.view.name;
  const p = st.ports.get(name);
  if (!p) return;
  const enable = p.enabled === false;
  if (!enable && p.state && p.state.open &&
      !(await confirmAction(`Disable ${name} while it is open?`,
        `${name} is in use: ${p.kind === 'device' ? 'the gateway holds the device open' : 'an application holds it open'}. Disabling closes it at once; the application gets an error on every read and write.`, 'Disable'))) return;
  const r = await api('PATCH', portPath(name), { enabled: enable });
  if (r.ok) upsertPort(r.data, false); else showNotice(`Could not ${enable ? 'enable' : 'disable'} ${name}: ${r.error}`);
});
els.cEdit.addEventListener('click', () => openForm(st.view.name));
els.cRemove.addEventListener('click', () => removeViaApi(st.view.name));

// ---------- send ----------

function setStatus(text, kind) {
  els.sendStatus.textContent = text;
  els.sendStatus.className = `status ${kind || ''}`.trim();
}

function renderSendState() {
  const down = els.link.dataset.state === 'down';
  $('send-button').disabled = down;
  if (down) setStatus('Not connected to the gateway: nothing can be sent until it is back.', 'error');
  else if (els.sendStatus.textContent.startsWith('Not connected to the gateway')) setStatus('', '');
}

function readSendBytes() {
  const f = els.sendForm.elements;
  const bytes = f.mode.value === 'hex' ? parseHex(f.data.value) : parseEscapes(f.data.value, false);
  const eol = parseEscapes(f.eol.value, true);
  const out = new Uint8Array(bytes.length + eol.length);
  out.set(bytes);
  out.set(eol, bytes.length);
  return out;
}

async function sendBytes(bytes) {
  const v = st.view;
  if (v.page === 'port') {
    const r = await api('POST', `${portPath(v.name)}/send`, bytes, 'application/octet-stream');
    if (r.ok) return { ok: true, text: `Written to ${v.name}: ${bytes.length} byte${bytes.length === 1 ? '' : 's'} handed to the application's side.`, kind: 'ok' };
    if (r.status === 401) showLogin();
    return { ok: false, text: `Not sent: ${r.error}`, kind: 'error' };
  }
  const r = await api('POST', '/fleet/send', { gateway: v.gw, port: v.name, data: b64encode(bytes) });
  if (!r.ok) return { ok: false, text: `Not sent: ${r.error}`, kind: 'error' };
  if (r.data.gateway_online === false) {
    return { ok: true, kind: 'queued', text: `Queued, not delivered: ${v.gw} is offline. The broker holds it only while ${v.gw}'s session lasts (its --rx-hold, 10 s by default).` };
  }
  if (r.data.gateway_online !== true) {
    return { ok: true, kind: 'queued', text: `Published ${bytes.length} B to ${r.data.topic}, but ${v.gw} has not been seen on the broker: nothing may be listening.` };
  }
  return { ok: true, kind: 'ok', text: `Published ${bytes.length} B to ${r.data.topic} (${v.gw} is online).` };
}

async function doSend(raw, bytes) {
  if (!bytes.length) { setStatus('Nothing to send.', 'error'); return; }
  if (els.link.dataset.state === 'down') { setStatus('Not sent: the gateway cannot be reached.', 'error'); return; }
  setStatus('Sending…', '');
  const r = await sendBytes(bytes);
  setStatus(r.text, r.kind);
  if (r.ok && raw) {
    if (st.sendHistory[0] !== raw) st.sendHistory.unshift(raw);
    st.sendHistory.length = Math.min(st.sendHistory.length, SEND_HISTORY);
    st.historyPos = -1;
  }
}

els.sendForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  let bytes;
  try { bytes = readSendBytes(); } catch (e) { setStatus(e.message, 'error'); return; }
  await doSend(els.sendForm.elements.data.value, bytes);
});

els.sendForm.elements.data.addEventListener('keydown', (ev) => {
  if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return;
  const h = st.sendHistory;
  if (!h.length) return;
  ev.preventDefault();
  st.historyPos = ev.key === 'ArrowUp' ? Math.min(h.length - 1, st.historyPos + 1) : Math.max(-1, st.historyPos - 1);
  ev.target.value = st.historyPos < 0 ? '' : h[st.historyPos];
});

function syncPlaceholder() {
  const f = els.sendForm.elements;
  f.data.placeholder = f.mode.value === 'hex' ? 'e.g. FE FE 94 E0 03 FD' : 'e.g. FA;';
}
els.sendForm.elements.mode.addEventListener('change', syncPlaceholder);
syncPlaceholder();

function renderPreset() {
  const pr = PRESETS[els.preset.value];
  els.quick.replaceChildren(...(pr ? pr.commands.map(([cmd, what, keys]) =>
    el('button', { type: 'button', class: `small ${keys ? 'danger' : 'ghost'}`, 'data-cmd': cmd, title: `${what}${keys ? ' — keys the transmitter' : ''}` },
      keys ? `⚠ ${cmd}` : cmd)) : []));
  if (pr) {
    const f = els.sendForm.elements;
    f.mode.value = pr.mode;
    f.eol.value = pr.eol;
    syncPlaceholder();
  }
  renderPresetFraming();
}

function renderPresetFraming() {
  const pr = PRESETS[els.preset.value];
  const p = consolePort();
  els.presetFraming.replaceChildren();
  if (!pr || !p) return;
  if (frameMatches(p.frame, pr.frame)) {
    els.presetFraming.append(`This port's framing (${frameText(p.frame)}) suits ${pr.label}: each reply is one message.`);
  } else if (st.view.page === 'port') {
    els.presetFraming.append(`${pr.label} replies are cut best with framing "${frameText(pr.frame)}" (now: ${frameText(p.frame)}). `,
      el('button', { type: 'button', class: 'ghost small', id: 'apply-framing' }, 'Use it for this port'));
  } else {
    els.presetFraming.append(`Its gateway cuts messages by "${frameText(p.frame)}"; ${pr.label} suits "${frameText(pr.frame)}".`);
  }
}

els.preset.addEventListener('change', renderPreset);
els.quick.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-cmd]');
  if (!b) return;
  const pr = PRESETS[els.preset.value];
  if (b.classList.contains('danger') &&
      !(await confirmAction('Transmit?', `"${b.dataset.cmd}" keys the transmitter of the radio on ${st.view.name}.`, 'Send'))) return;
  let bytes;
  try {
    const body = pr.mode === 'hex' ? parseHex(b.dataset.cmd) : parseEscapes(b.dataset.cmd, false);
    const eol = parseEscapes(pr.eol, true);
    bytes = new Uint8Array([...body, ...eol]);
  } catch (e) { setStatus(e.message, 'error'); return; }
  await doSend(null, bytes);
});
els.presetFraming.addEventListener('click', async (ev) => {
  if (!ev.target.closest('#apply-framing')) return;
  const pr = PRESETS[els.preset.value];
  const r = await api('PATCH', portPath(st.view.name), { frame: Object.assign({ idle_ms: null, delim: null }, pr.frame) });
  if (r.ok) { upsertPort(r.data, false); setStatus(`Framing of ${st.view.name} is now "${frameText(r.data.frame)}".`, 'ok'); } else setStatus(`Framing not changed: ${r.error}`, 'error');
});

// ---------- add / edit form (form.js) ----------

const portForm = createForm({
  els, st, api, portPath, confirmAction, showLogin,
  onSaved: (port, created) => {
    upsertPort(port, false);
    showSaved(created ? `Port ${port.name} created.` : `Saved ${port.name}.`);
  },
});
const openForm = (name) => portForm.open(name);
const applySchema = () => portForm.applySchema();

let savedTimer = 0;
function showSaved(text) {
  const n = $('saved') || el('p', { id: 'saved', class: 'saved', role: 'status' });
  n.textContent = text;
  if (!n.isConnected) document.body.append(n);
  n.hidden = false;
  clearTimeout(savedTimer);
  savedTimer = setTimeout(() => { n.hidden = true; }, 3000);
}

// ---------- login ----------

function showLogin() {
  if (st.loginShown && els.loginDialog.open) return;
  st.loginShown = true;
  els.signIn.hidden = false;
  if (els.portDialog.open) els.portDialog.close();
  els.loginError.hidden = true;
  els.loginForm.reset();
  setLink('auth');
  els.loginDialog.showModal();
  els.loginForm.elements.password.focus();
}
els.loginDialog.addEventListener('cancel', (ev) => ev.preventDefault());
els.signIn.addEventListener('click', showLogin);
els.loginForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const r = await api('POST', '/login', { password: els.loginForm.elements.password.value });
  if (!r.ok) {
    els.loginError.textContent = r.error || 'Wrong password.';
    els.loginError.hidden = false;
    return;
  }
  st.loginShown = false;
  els.signIn.hidden = true;
  els.loginDialog.close();
  await loadAll();
  if (!st.loginShown) connectWs();
});

// ---------- loading and the websocket ----------

async function loadAll() {
  const [s, p, sc] = await Promise.all([api('GET', '/status'), api('GET', '/ports'), api('GET', '/schema')]);
  if (s.status === 401 || p.status === 401) { showLogin(); return false; }
  if (sc.ok && sc.data) { st.schema = sc.data; applySchema(); }
  if (!s.ok || !p.ok) return false;
  applyStatus(s.data);
  replacePorts(Array.isArray(p.data) ? p.data : []);
  loadActivity();
  return true;
}

// "Last activity" survives a reload: the gateway keeps each port's last message.
async function loadActivity() {
  const r = await api('GET', '/traffic');
  if (!r.ok || !r.data) return;
  for (const [name, t] of Object.entries(r.data)) {
    if (typeof t.last_ts !== 'number') continue;
    st.activity.set(name, Math.max(t.last_ts, st.activity.get(name) || 0));
    renderActivity(name);
  }
}

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

function connectWs() {
  clearTimeout(st.wsTimer);
  clearInterval(st.countdownTimer);
  if (st.ws) { const old = st.ws; st.ws = null; try { old.close(); } catch { /* closing anyway */ } }
  let ws;
  try { ws = new WebSocket(wsUrl()); } catch { scheduleReconnect(); return; }
  st.ws = ws;
  if (!st.live) { st.countdown = 0; updateOfflineText(); }
  ws.addEventListener('message', (ev) => {
    if (st.ws !== ws) return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    handleEvent(msg);
  });
  ws.addEventListener('close', () => {
    if (st.ws !== ws) return;
    st.ws = null;
    st.live = false;
    setLink('down');
    scheduleReconnect();
  });
}

// Quick and capped: a restarted gateway is back on screen within ~2 s.
async function scheduleReconnect() {
  clearTimeout(st.wsTimer);
  clearInterval(st.countdownTimer);
  if (st.loginShown) return;
  const base = WS_RETRY[Math.min(st.wsTries, WS_RETRY.length - 1)];
  st.wsTries++;
  const delay = Math.round(base * (0.8 + Math.random() * 0.4));
  if (st.wsTries > 2) {
    // a refused upgrade looks like any close: is a sign-in needed?
    const r = await api('GET', '/status');
    if (r.status === 401) { showLogin(); return; }
  }
  const due = Date.now() + delay;
  st.countdown = delay;
  updateOfflineText();
  st.countdownTimer = setInterval(() => { st.countdown = due - Date.now(); updateOfflineText(); }, 500);
  st.wsTimer = setTimeout(connectWs, delay);
}

els.retryNow.addEventListener('click', () => { st.wsTries = 0; connectWs(); });

function handleEvent(m) {
  switch (m && m.type) {
    case 'hello':
      st.wsTries = 0;
      st.live = true;
      clearInterval(st.countdownTimer);
      setLink('live');
      st.problems = new Map();
      applyStatus(m.status);
      replacePorts(Array.isArray(m.ports) ? m.ports : []);
      loadActivity();
      // what came while away: fetch the kept traffic again
      st.loaded.clear();
      if (currentKey()) renderConsole();
      if (fleet.wanted()) fleet.load();
      break;
    case 'port':
      if (!m.port) break;
      if (m.op === 'removed') removePort(m.port.name);
      else upsertPort(m.port, true);
      break;
    case 'state':
      applyState(m.name, m.state);
      break;
    case 'traffic':
      if (!st.ports.has(m.name) || (m.dir !== 'tx' && m.dir !== 'rx')) break;
      st.activity.set(m.name, Math.max(m.ts || 0, st.activity.get(m.name) || 0));
      renderActivity(m.name);
      addTraffic(`L:${m.name}`, m, m.src || (m.dir === 'tx' ? 'port' : 'mqtt'));
      break;
    case 'broker':
      setBroker(!!m.connected);
      break;
    case 'problem':
      if (m.problem) st.problems.set(m.name, m.problem); else st.problems.delete(m.name);
      renderRow(m.name);
      break;
    case 'fleet':
      if (m.op === 'traffic') addTraffic(`R:${m.gateway}/${m.name}`, m, 'mqtt');
      else fleet.event(m);
      break;
    default:
      break;
  }
  if (m && m.type) st.lastLive = Date.now();
}

// ---------- the fleet ----------

const fleet = createFleet({
  api, el, lineOf, fmtBytes, statusOf,
  root: $('fleet'), cables: $('cables'), info: $('fleet-info'), empty: $('fleet-empty'),
  isShown: () => st.view.page === 'fleet',
  onChange: () => {
    if (st.view.page === 'remote') renderDetails();
    else if (st.view.page === 'port') {
      const p = st.ports.get(st.view.name);
      if (p && p.peer) renderCable(p, false);
    }
  },
});

// ---------- views ----------

function parseHash() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const parts = h.split('/');
  if (parts[0] === 'port' && parts[1]) return { page: 'port', name: parts[1] };
  if (parts[0] === 'fleet' && parts[1] && parts[2]) return { page: 'remote', gw: parts[1], name: parts[2] };
  if (parts[0] === 'fleet') return { page: 'fleet' };
  return { page: 'ports' };
}

function route() {
  let v = parseHash();
  if (v.page === 'remote' && st.status && v.gw === st.status.id) {
    location.replace(`#/port/${encodeURIComponent(v.name)}`);
    return;
  }
  const prevKey = currentKey();
  st.view = v;
  els.viewPorts.hidden = v.page !== 'ports';
  els.viewFleet.hidden = v.page !== 'fleet';
  els.viewConsole.hidden = v.page !== 'port' && v.page !== 'remote';
  els.tabPorts.toggleAttribute('aria-current', v.page === 'ports' || v.page === 'port');
  els.tabFleet.toggleAttribute('aria-current', v.page === 'fleet' || v.page === 'remote');
  if (prevKey !== currentKey()) {
    st.paused = false;
    st.missed = 0;
    els.pause.setAttribute('aria-pressed', 'false');
    els.pause.textContent = 'Pause';
    setStatus('', '');
  }
  const p = v.page === 'port' ? st.ports.get(v.name) : null;
  fleet.want(v.page === 'fleet' || v.page === 'remote' || !!(p && p.peer));
  if (v.page !== 'remote') fleet.unwatchPort();   // its traffic is no longer followed
  if (v.page === 'fleet') fleet.render();
  if (currentKey()) { renderConsole(); renderTraffic(); }
  renderSendState();
}
window.addEventListener('hashchange', route);

// ---------- start ----------

setInterval(() => { for (const name of st.rows.keys()) renderActivity(name); }, 1000);
document.addEventListener('keydown', (ev) => {
  if (ev.key === '/' && currentKey() && !(ev.target instanceof HTMLInputElement) &&
      !(ev.target instanceof HTMLSelectElement) && !document.querySelector('dialog[open]')) {
    ev.preventDefault();
    els.sendForm.elements.data.focus();
  }
});

updateCount();
setLink('connecting');
loadAll().then(() => { route(); if (!st.loginShown) connectWs(); });
route();
