// mqttty dashboard. No framework, no build step: the gateway serves this file
// as it is, under a CSP that forbids inline scripts and styles, so every
// handler is attached here and the look lives in style.css.
'use strict';

(() => {
  const API = '/api/v1';
  const TRAFFIC_MAX = 500;       // entries kept per port
  const SHOW_MAX = 512;          // bytes shown per entry (the rest is counted)
  const WS_BACKOFF_MIN = 500;
  const WS_BACKOFF_MAX = 15000;
  const SEND_HISTORY = 20;

  const $ = (id) => document.getElementById(id);
  const els = {
    gwId: $('gw-id'), gwVersion: $('gw-version'), broker: $('broker'),
    link: $('link'), portCount: $('port-count'),
    notice: $('notice'), noticeText: $('notice-text'), noticeClose: $('notice-close'),
    ports: $('ports'), portsTable: $('ports-table'), noPorts: $('no-ports'),
    addPort: $('add-port'),
    trafficPort: $('traffic-port'), pause: $('traffic-pause'), clear: $('traffic-clear'),
    traffic: $('traffic'), trafficEmpty: $('traffic-empty'), trafficInfo: $('traffic-info'),
    sendForm: $('send-form'), sendFieldset: $('send-fieldset'), sendTarget: $('send-target'),
    sendStatus: $('send-status'),
    portDialog: $('port-dialog'), portForm: $('port-form'), portTitle: $('port-dialog-title'),
    portError: $('port-form-error'), portCancel: $('port-cancel'), deviceFields: $('device-fields'),
    signIn: $('sign-in'),
    loginDialog: $('login-dialog'), loginForm: $('login-form'), loginError: $('login-error'),
  };

  const st = {
    status: null,             // GET /status answer (ports count kept live from the map)
    brokerConnected: null,
    ports: new Map(),         // name -> port object (with state)
    rows: new Map(),          // name -> <tr>
    activity: new Map(),      // name -> ms of the last traffic or counter change
    traffic: new Map(),       // name -> [{dir, ts, bytes}]
    selected: null,
    paused: false,
    missed: 0,                // entries that arrived while paused
    editing: null,            // name of the port in the form, null when adding
    loginShown: false,
    ws: null, wsTimer: 0, wsTries: 0,
    sendHistory: [], historyPos: -1,
  };

  // ---------- small helpers ----------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const hex2 = (b) => b.toString(16).padStart(2, '0');

  function toHex(bytes) {
    const out = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = hex2(bytes[i]);
    return out.join(' ');
  }

  function toAscii(bytes) {
    let s = '';
    for (const b of bytes) s += (b >= 0x20 && b < 0x7f) ? String.fromCharCode(b) : '.';
    return s;
  }

  function b64decode(s) {
    const bin = atob(s || '');
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // Text with escapes -> bytes. Characters are UTF-8 encoded; \xHH is one byte.
  // latin1: every character must be U+0000-U+00FF and becomes one byte.
  function parseEscapes(text, latin1) {
    const out = [];
    const enc = new TextEncoder();
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\\') {
        const code = text.codePointAt(i);
        if (code > 0xffff) i++;
        if (latin1) {
          if (code > 0xff) throw new Error(`"${String.fromCodePoint(code)}" is not a single byte; use \\xHH`);
          out.push(code);
        } else {
          out.push(...enc.encode(String.fromCodePoint(code)));
        }
        continue;
      }
      const n = text[++i];
      if (n === 'r') out.push(13);
      else if (n === 'n') out.push(10);
      else if (n === 't') out.push(9);
      else if (n === '\\') out.push(92);
      else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
        out.push(parseInt(text.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (n === 'x') {
        throw new Error('\\x needs two hex digits, e.g. \\xFD');
      } else if (n === undefined) {
        throw new Error('a lone \\ at the end; write \\\\ for a backslash');
      } else {
        throw new Error(`unknown escape \\${n}; use \\r \\n \\t \\\\ or \\xHH`);
      }
    }
    return new Uint8Array(out);
  }

  // "FE FE 94 E0 03 FD", "fefe94", "0xFE,0xFD" -> bytes
  function parseHex(text) {
    const s = text.replace(/0x/gi, '').replace(/[\s,:;-]/g, '');
    if (!/^[0-9a-fA-F]*$/.test(s)) throw new Error('hex mode takes only hex digits, e.g. FE FE 94 E0 03 FD');
    if (s.length % 2) throw new Error('odd number of hex digits');
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  // A delimiter string (each char one byte) shown with escapes for the form.
  function escapeDelim(s) {
    let out = '';
    for (const ch of s || '') {
      const c = ch.charCodeAt(0);
      if (ch === '\\') out += '\\\\';
      else if (c === 13) out += '\\r';
      else if (c === 10) out += '\\n';
      else if (c === 9) out += '\\t';
      else if (c >= 0x20 && c < 0x7f) out += ch;
      else out += '\\x' + hex2(c).toUpperCase();
    }
    return out;
  }

  function fmtBytes(n) {
    if (n === null || n === undefined) return '–';
    if (n < 10000) return `${n} B`;
    const units = ['kB', 'MB', 'GB', 'TB'];
    let v = n, u = -1;
    while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
    return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
  }

  function fmtAgo(ms) {
    if (!ms) return 'never';
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 2) return 'just now';
    if (s < 60) return `${s} s ago`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ago`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ago`;
    return `${Math.floor(h / 24)} d ago`;
  }

  function fmtClock(ms) {
    const d = new Date(ms);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  const PARITY = { none: 'N', even: 'E', odd: 'O', mark: 'M', space: 'S' };
  const FLOW = { none: 'none', rtscts: 'RTS/CTS', xonxoff: 'XON/XOFF' };
  const dash = (v) => (v === null || v === undefined ? '–' : String(v));

  // Line settings as the port reports them (state), else as configured.
  function lineOf(p) {
    const s = p.state || {};
    const pick = (k) => (p.state ? s[k] : p[k]);
    const baud = pick('baud');
    const db = pick('data_bits');
    const par = pick('parity');
    const sb = pick('stop_bits');
    const nil = (v) => v === null || v === undefined;
    const parts = nil(baud) && nil(db) && nil(par) && nil(sb) ? [null]
      : [nil(baud) ? null : String(baud), ' ', nil(db) ? null : String(db),
        nil(par) ? null : (PARITY[par] || '?'), nil(sb) ? null : String(sb)];
    return {
      parts,
      text: parts.map((x) => (x === null ? '–' : x)).join(''),
      title: `baud ${dash(baud)}, data bits ${dash(db)}, parity ${dash(par)}, stop bits ${dash(sb)}`,
      flow: pick('flow'),
    };
  }

  // ---------- API ----------

  async function api(method, path, body, contentType) {
    const opt = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opt.headers['Content-Type'] = contentType || 'application/json';
      opt.body = contentType ? body : JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, opt);
    } catch (e) {
      return { ok: false, status: 0, error: 'the gateway cannot be reached' };
    }
    let data = null;
    const text = await res.text().catch(() => '');
    if (text) { try { data = JSON.parse(text); } catch { data = null; } }
    if (res.status === 401 && path !== '/login') showLogin();
    if (res.ok) return { ok: true, status: res.status, data };
    const error = (data && typeof data.error === 'string') ? data.error
      : `${res.status} ${res.statusText || 'error'}`.trim();
    return { ok: false, status: res.status, error, data };
  }

  const portPath = (name) => `/ports/${encodeURIComponent(name)}`;

  async function loadAll() {
    const [s, p] = await Promise.all([api('GET', '/status'), api('GET', '/ports')]);
    if (s.status === 401 || p.status === 401) return false;
    if (!s.ok || !p.ok) {
      showNotice(`Could not load the gateway's data: ${(!s.ok ? s : p).error}`);
      return false;
    }
    applyStatus(s.data);
    replacePorts(Array.isArray(p.data) ? p.data : []);
    return true;
  }

  // ---------- notices ----------

  function showNotice(text) {
    els.noticeText.textContent = text;
    els.notice.hidden = false;
  }
  els.noticeClose.addEventListener('click', () => { els.notice.hidden = true; });

  // ---------- header ----------

  function applyStatus(s) {
    if (!s) return;
    st.status = s;
    els.gwId.textContent = s.id || '–';
    els.gwVersion.textContent = s.version ? `v${s.version}` : '';
    document.title = s.id ? `mqttty · ${s.id}` : 'mqttty';
    if (s.broker) setBroker(!!s.broker.connected, s.broker.uri);
  }

  function setBroker(connected, uri) {
    st.brokerConnected = connected;
    els.broker.dataset.connected = String(connected);
    els.broker.textContent = connected ? 'Broker connected' : 'Broker disconnected';
    if (uri !== undefined) els.broker.title = uri ? `broker ${uri}` : '';
  }

  function setLink(state) {
    els.link.dataset.state = state;
    els.link.textContent = { live: 'Live', connecting: 'Connecting…', down: 'Reconnecting…', auth: 'Signed out' }[state] || state;
    els.link.title = { live: 'live updates from the gateway', auth: 'sign in to see live updates' }[state] ||
      'no live updates: reconnecting to the gateway';
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
    const th = el('th', { scope: 'row', 'data-field': 'name' },
      el('button', { type: 'button', class: 'link name', 'data-action': 'select', title: 'Show traffic' }, name));
    tr.append(
      th,
      cell('path', 'Path'),
      cell('kind', 'Kind'),
      cell('open', 'Status'),
      cell('line', 'Line'),
      cell('flow', 'Flow'),
      cell('tx_bytes', 'TX', { class: 'num' }),
      cell('rx_bytes', 'RX', { class: 'num' }),
      cell('dropped', 'Dropped', { class: 'num' }),
      cell('activity', 'Last activity'),
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

  function renderRow(name) {
    const p = st.ports.get(name);
    if (!p) return;
    let tr = st.rows.get(name);
    if (!tr) {
      tr = buildRow(name);
      st.rows.set(name, tr);
      // keep rows sorted by name, like the API
      const after = [...st.rows.keys()].filter((n) => n > name && st.rows.get(n).isConnected).sort()[0];
      els.ports.insertBefore(tr, after ? st.rows.get(after) : null);
    }
    const s = p.state || {};
    const open = s.open === true;
    const enabled = p.enabled !== false;
    tr.dataset.open = String(open);
    tr.dataset.kind = p.kind || '';
    tr.dataset.enabled = String(enabled);
    tr.classList.toggle('selected', st.selected === name);
    const nameBtn = tr.querySelector('[data-action="select"]');
    if (st.selected === name) nameBtn.setAttribute('aria-current', 'true'); else nameBtn.removeAttribute('aria-current');

    const path = p.path || p.device || '–';
    const pathTd = tr.querySelector('[data-field="path"]');
    if (pathTd.textContent !== path || !pathTd.firstElementChild) {
      pathTd.replaceChildren(el('code', null, path));
      pathTd.title = path;
    }
    setCell(tr, 'kind', p.kind || '–');

    const statusTd = tr.querySelector('[data-field="open"]');
    const label = !enabled ? 'disabled' : open ? 'open' : 'closed';
    statusTd.dataset.value = String(open);
    if (statusTd.textContent !== label) {
      statusTd.replaceChildren(el('span', { class: `badge ${!enabled ? 'off' : open ? 'ok' : 'idle'}` }, label));
    }

    const line = lineOf(p);
    const lineTd = tr.querySelector('[data-field="line"]');
    if (lineTd.textContent !== line.text) {
      // each unknown value is its own muted dash, so "––1" does not read as one line
      lineTd.replaceChildren(...line.parts.map((x) => (x === null ? el('span', { class: 'na' }, '–') : x)));
    }
    lineTd.title = line.title;
    setCell(tr, 'flow', line.flow ? (FLOW[line.flow] || line.flow) : '–');
    for (const k of ['tx_bytes', 'rx_bytes', 'dropped']) {
      const v = typeof s[k] === 'number' ? s[k] : null;
      const td = setCell(tr, k, k === 'dropped' ? dash(v) : fmtBytes(v), { 'data-value': v, title: v === null ? null : `${v} bytes` });
      if (k === 'dropped') td.classList.toggle('warn', v > 0);
    }
    renderActivity(name);
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

  function upsertPort(p, fromEvent) {
    if (!p || typeof p.name !== 'string') return;
    const old = st.ports.get(p.name);
    if (old && old.state && p.state && fromEvent && countersMoved(old.state, p.state)) st.activity.set(p.name, Date.now());
    st.ports.set(p.name, p);
    renderRow(p.name);
    syncPortSelect();
    updateCount();
  }

  function removePort(name) {
    st.ports.delete(name);
    st.traffic.delete(name);
    st.activity.delete(name);
    const tr = st.rows.get(name);
    if (tr) tr.remove();
    st.rows.delete(name);
    if (st.selected === name) select(null);
    syncPortSelect();
    updateCount();
  }

  function replacePorts(list) {
    const names = new Set(list.map((p) => p.name));
    for (const name of [...st.ports.keys()]) if (!names.has(name)) removePort(name);
    for (const p of list) upsertPort(p, false);
    if (st.selected && !st.ports.has(st.selected)) select(null);
    if (!st.selected) {
      const saved = readSaved();
      if (saved && st.ports.has(saved)) select(saved);
    }
    updateCount();
  }

  const countersMoved = (a, b) => a.tx_bytes !== b.tx_bytes || a.rx_bytes !== b.rx_bytes;

  function applyState(name, state) {
    const p = st.ports.get(name);
    if (!p || !state) return;
    if (p.state && countersMoved(p.state, state)) st.activity.set(name, Date.now());
    p.state = state;
    renderRow(name);
  }

  els.ports.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-action]');
    if (!btn) return;
    const name = btn.closest('tr[data-port]').dataset.port;
    const action = btn.dataset.action;
    if (action === 'select') {
      select(name);
      const r = els.traffic.getBoundingClientRect();
      if (r.top > window.innerHeight || r.bottom < 0) els.traffic.scrollIntoView({ block: 'center' });
    } else if (action === 'edit') openForm(name);
    else if (action === 'remove') removeViaApi(name);
  });

  async function removeViaApi(name) {
    const p = st.ports.get(name);
    const where = p && p.path ? ` Its link ${p.path} disappears.` : '';
    if (!window.confirm(`Remove port ${name}?${where}`)) return;
    const r = await api('DELETE', portPath(name));
    if (r.ok || r.status === 404) removePort(name);
    else if (r.status !== 401) showNotice(`Could not remove ${name}: ${r.error}`);
  }

  // ---------- traffic ----------

  function syncPortSelect() {
    const sel = els.trafficPort;
    const names = [...st.ports.keys()].sort();
    const have = [...sel.options].slice(1).map((o) => o.value);
    if (have.join('\n') !== names.join('\n')) {
      sel.replaceChildren(sel.options[0], ...names.map((n) => el('option', { value: n }, n)));
    }
    sel.value = st.selected || '';
  }

  function readSaved() {
    try { return localStorage.getItem('mqttty.selected'); } catch { return null; }
  }

  function select(name) {
    const prev = st.selected;
    st.selected = name && st.ports.has(name) ? name : null;
    try {
      if (st.selected) localStorage.setItem('mqttty.selected', st.selected);
    } catch { /* storage may be off */ }
    if (prev && st.rows.has(prev)) renderRow(prev);
    if (st.selected) renderRow(st.selected);
    els.trafficPort.value = st.selected || '';
    els.sendFieldset.disabled = !st.selected;
    els.sendTarget.textContent = st.selected || 'the port';
    if (prev !== st.selected) setStatus('', '');
    st.missed = 0;
    pendingAppend = [];
    renderTraffic();
  }

  function entryNode(e) {
    const shown = e.bytes.length > SHOW_MAX ? e.bytes.subarray(0, SHOW_MAX) : e.bytes;
    const more = e.bytes.length - shown.length;
    return el('li', { class: `entry ${e.dir}`, 'data-dir': e.dir },
      el('time', { datetime: new Date(e.ts).toISOString() }, fmtClock(e.ts)),
      el('span', { class: 'dir', title: e.dir === 'tx' ? 'sent by the application' : 'delivered to the application' }, e.dir.toUpperCase()),
      el('span', { class: 'len' }, `${e.bytes.length} B`),
      el('span', { class: 'hex' }, toHex(shown) + (more ? ` … +${more} B` : '')),
      el('span', { class: 'ascii' }, toAscii(shown) + (more ? '…' : '')));
  }

  function nearBottom() {
    const t = els.traffic;
    return t.scrollHeight - t.scrollTop - t.clientHeight < 40;
  }

  function renderTraffic() {
    const list = (st.selected && st.traffic.get(st.selected)) || [];
    els.traffic.replaceChildren(...list.map(entryNode));
    els.traffic.scrollTop = els.traffic.scrollHeight;
    updateTrafficInfo();
  }

  function updateTrafficInfo() {
    const list = (st.selected && st.traffic.get(st.selected)) || [];
    els.trafficEmpty.hidden = !!st.selected && list.length > 0;
    els.trafficEmpty.textContent = st.selected ? `No traffic on ${st.selected} yet.` : 'Choose a port to watch its traffic.';
    let info = st.selected ? `${list.length} of the last ${TRAFFIC_MAX} entries` : '';
    if (st.paused) info += st.missed ? ` · paused, ${st.missed} new` : ' · paused';
    els.trafficInfo.textContent = info;
  }

  let pendingAppend = [];
  let appendScheduled = false;

  function addTraffic(msg) {
    const name = msg.name;
    if (!st.ports.has(name) || (msg.dir !== 'tx' && msg.dir !== 'rx')) return;
    let bytes;
    try { bytes = b64decode(msg.data); } catch { return; }
    const e = { dir: msg.dir, ts: typeof msg.ts === 'number' ? msg.ts : Date.now(), bytes };
    let list = st.traffic.get(name);
    if (!list) st.traffic.set(name, list = []);
    list.push(e);
    if (list.length > TRAFFIC_MAX) list.splice(0, list.length - TRAFFIC_MAX);
    st.activity.set(name, Math.max(e.ts, st.activity.get(name) || 0));
    renderActivity(name);
    if (name !== st.selected) return;
    if (st.paused) { st.missed++; updateTrafficInfo(); return; }
    pendingAppend.push(e);
    if (!appendScheduled) {
      appendScheduled = true;
      requestAnimationFrame(flushAppend);
    }
  }

  // Appends are batched per frame so a busy port does not re-layout per message.
  function flushAppend() {
    appendScheduled = false;
    const batch = pendingAppend;
    pendingAppend = [];
    if (st.paused || !st.selected) return;
    const stick = nearBottom();
    const frag = document.createDocumentFragment();
    for (const e of batch.slice(-TRAFFIC_MAX)) frag.append(entryNode(e));
    els.traffic.append(frag);
    while (els.traffic.childElementCount > TRAFFIC_MAX) els.traffic.firstElementChild.remove();
    if (stick) els.traffic.scrollTop = els.traffic.scrollHeight;
    updateTrafficInfo();
  }

  els.trafficPort.addEventListener('change', () => select(els.trafficPort.value || null));
  els.pause.addEventListener('click', () => {
    st.paused = !st.paused;
    els.pause.setAttribute('aria-pressed', String(st.paused));
    els.pause.textContent = st.paused ? 'Resume' : 'Pause';
    if (!st.paused) { st.missed = 0; pendingAppend = []; renderTraffic(); } else updateTrafficInfo();
  });
  els.clear.addEventListener('click', () => {
    if (st.selected) st.traffic.set(st.selected, []);
    pendingAppend = [];
    st.missed = 0;
    renderTraffic();
  });

  // ---------- send ----------

  function setStatus(text, kind) {
    els.sendStatus.textContent = text;
    els.sendStatus.className = `status ${kind || ''}`.trim();
  }

  els.sendForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = st.selected;
    if (!name) return;
    const f = els.sendForm.elements;
    const raw = f.data.value;
    let bytes;
    try {
      bytes = f.mode.value === 'hex' ? parseHex(raw) : parseEscapes(raw, false);
    } catch (e) {
      setStatus(e.message, 'error');
      return;
    }
    if (!bytes.length) { setStatus('Nothing to send.', 'error'); return; }
    setStatus('Sending…', '');
    const r = await api('POST', `${portPath(name)}/send`, bytes, 'application/octet-stream');
    if (r.ok) {
      setStatus(`Sent ${bytes.length} byte${bytes.length === 1 ? '' : 's'} to ${name}.`, 'ok');
      if (st.sendHistory[0] !== raw) st.sendHistory.unshift(raw);
      st.sendHistory.length = Math.min(st.sendHistory.length, SEND_HISTORY);
      st.historyPos = -1;
    } else {
      setStatus(r.error, 'error');
    }
  });

  // Up/Down in the send box walk through what was sent before.
  els.sendForm.elements.data.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return;
    const h = st.sendHistory;
    if (!h.length) return;
    ev.preventDefault();
    st.historyPos = ev.key === 'ArrowUp' ? Math.min(h.length - 1, st.historyPos + 1) : Math.max(-1, st.historyPos - 1);
    ev.target.value = st.historyPos < 0 ? '' : h[st.historyPos];
  });

  els.sendForm.elements.mode.addEventListener('change', (ev) => {
    els.sendForm.elements.data.placeholder = ev.target.value === 'hex' ? 'e.g. FE FE 94 E0 03 FD' : 'e.g. FA;\\r';
  });
  els.sendForm.elements.data.placeholder = 'e.g. FA;\\r';

  // ---------- add / edit form ----------

  const form = els.portForm;
  const F = (n) => form.elements.namedItem(n);

  function syncFormVisibility() {
    const kind = F('kind').value;
    const isDevice = kind === 'device';
    els.deviceFields.disabled = !isDevice;
    els.deviceFields.hidden = !isDevice;
    F('follow').disabled = !isDevice || !F('peer').value.trim();
    const mode = F('frame.mode').value;
    for (const n of form.querySelectorAll('.frame-delim')) n.hidden = mode !== 'delim';
    for (const n of form.querySelectorAll('.frame-idle')) n.hidden = mode !== 'idle';
    F('frame.delim').disabled = mode !== 'delim';
    F('frame.idle_ms').disabled = mode !== 'idle';
    F('frame.delim').required = mode === 'delim';
  }
  F('kind').addEventListener('change', syncFormVisibility);
  F('frame.mode').addEventListener('change', syncFormVisibility);
  F('peer').addEventListener('input', syncFormVisibility);

  function setFormError(text) {
    els.portError.textContent = text || '';
    els.portError.hidden = !text;
    if (text) els.portError.scrollIntoView({ block: 'nearest' });
  }

  function fillForm(p) {
    const v = (x, d) => (x === null || x === undefined ? d : x);
    F('name').value = p ? p.name : '';
    F('kind').value = p ? v(p.kind, 'pty') : 'pty';
    F('qos').value = String(p ? v(p.qos, 1) : 1);
    F('peer').value = p ? v(p.peer, '') : '';
    F('enabled').checked = p ? p.enabled !== false : true;
    F('device').value = p ? v(p.device, '') : '';
    F('baud').value = String(p ? v(p.baud, 9600) : 9600);
    F('data_bits').value = String(p ? v(p.data_bits, 8) : 8);
    F('parity').value = p ? v(p.parity, 'none') : 'none';
    F('stop_bits').value = String(p ? v(p.stop_bits, 1) : 1);
    F('flow').value = p ? v(p.flow, 'none') : 'none';
    F('dtr').checked = !!(p && p.dtr);
    F('rts').checked = !!(p && p.rts);
    F('follow').checked = !!(p && p.follow);
    const fr = (p && p.frame) || {};
    F('frame.mode').value = v(fr.mode, 'raw');
    F('frame.max').value = String(v(fr.max, 4096));
    F('frame.delim').value = escapeDelim(v(fr.delim, ''));
    F('frame.idle_ms').value = fr.idle_ms ? String(fr.idle_ms) : '';
    F('name').readOnly = !!p;
    F('kind').disabled = !!p;
    syncFormVisibility();
  }

  function openForm(name) {
    const p = name ? st.ports.get(name) : null;
    if (name && !p) return;
    st.editing = name || null;
    els.portTitle.textContent = p ? `Edit port ${name}` : 'Add port';
    fillForm(p);
    setFormError('');
    if (!els.portDialog.open) els.portDialog.showModal();
    (p ? F('peer') : F('name')).focus();
  }

  function intOf(n, label) {
    const s = F(n).value.trim();
    if (s === '') return null;
    const x = Number(s);
    if (!Number.isInteger(x)) throw new Error(`${label} must be a whole number`);
    return x;
  }

  // The settings the form describes, in the API's shape (device-only fields
  // only for device ports).
  function readForm() {
    const kind = F('kind').value;
    const s = {
      name: F('name').value.trim(),
      kind,
      enabled: F('enabled').checked,
      qos: Number(F('qos').value),
      peer: F('peer').value.trim() || null,
    };
    if (kind === 'device') {
      s.device = F('device').value.trim() || null;
      s.baud = intOf('baud', 'Baud');
      s.data_bits = Number(F('data_bits').value);
      s.parity = F('parity').value;
      s.stop_bits = Number(F('stop_bits').value);
      s.flow = F('flow').value;
      s.dtr = F('dtr').checked;
      s.rts = F('rts').checked;
      s.follow = F('follow').checked && !!s.peer;
    }
    const frame = { mode: F('frame.mode').value, max: intOf('frame.max', 'Max bytes') };
    if (frame.max === null) delete frame.max;
    if (frame.mode === 'delim') {
      frame.delim = String.fromCharCode(...parseEscapes(F('frame.delim').value, true));
      if (!frame.delim.length) throw new Error('delim mode needs a delimiter, e.g. ; or \\xFD');
    }
    if (frame.mode === 'idle') {
      const ms = intOf('frame.idle_ms', 'Idle ms');
      if (ms !== null) frame.idle_ms = ms;
    }
    s.frame = frame;
    return s;
  }

  const same = (a, b) => (a === undefined ? null : a) === (b === undefined ? null : b);

  // JSON merge patch with only what changed.
  function diffSettings(orig, next) {
    const patch = {};
    for (const [k, v] of Object.entries(next)) {
      if (k === 'name' || k === 'kind' || k === 'frame') continue;
      if (!same(orig[k], v)) patch[k] = v;
    }
    const of = orig.frame || {};
    const nf = next.frame;
    const keys = ['mode', 'max', 'delim', 'idle_ms'];
    if (keys.some((k) => !same(of[k], nf[k]))) {
      const fp = {};
      for (const k of keys) {
        if (nf[k] !== undefined) fp[k] = nf[k];
        else if (of[k] !== undefined && of[k] !== null) fp[k] = null;
      }
      patch.frame = fp;
    }
    return patch;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    setFormError('');
    let settings;
    try { settings = readForm(); } catch (e) { setFormError(e.message); return; }
    const saveBtn = $('port-save');
    saveBtn.disabled = true;
    try {
      let r;
      if (st.editing) {
        const orig = st.ports.get(st.editing);
        if (!orig) { setFormError('This port no longer exists.'); return; }
        const patch = diffSettings(orig, settings);
        if (!Object.keys(patch).length) { els.portDialog.close(); return; }
        r = await api('PATCH', portPath(st.editing), patch);
      } else {
        if (settings.peer === null) delete settings.peer;
        if (settings.device === null) delete settings.device;
        r = await api('POST', '/ports', settings);
      }
      if (!r.ok) {
        if (r.status !== 401) setFormError(r.error);
        else setFormError('Sign in, then save again.');
        return;
      }
      const created = !st.editing;
      els.portDialog.close();
      if (r.data && r.data.name) {
        upsertPort(r.data, false);
        if (created && !st.selected) select(r.data.name);
      }
    } finally {
      saveBtn.disabled = false;
    }
  });

  els.addPort.addEventListener('click', () => openForm(null));
  els.portCancel.addEventListener('click', () => els.portDialog.close());

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

  // Nothing works without a session: Escape should not dismiss the sign-in.
  // Browsers may close it anyway; the header's Sign in button brings it back.
  els.loginDialog.addEventListener('cancel', (ev) => ev.preventDefault());
  els.signIn.addEventListener('click', showLogin);

  els.loginForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const password = els.loginForm.elements.password.value;
    const r = await api('POST', '/login', { password });
    if (!r.ok) {
      els.loginError.textContent = r.status === 401 ? (r.error || 'Wrong password.') : r.error;
      els.loginError.hidden = false;
      return;
    }
    st.loginShown = false;
    els.signIn.hidden = true;
    els.loginDialog.close();
    await loadAll();
    if (!st.loginShown) connectWs();
  });

  // ---------- websocket ----------

  function wsUrl() {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
  }

  function connectWs() {
    clearTimeout(st.wsTimer);
    if (st.ws) { const old = st.ws; st.ws = null; try { old.close(); } catch { /* closing anyway */ } }
    let ws;
    try { ws = new WebSocket(wsUrl()); } catch { scheduleReconnect(); return; }
    st.ws = ws;
    setLink('connecting');
    ws.addEventListener('message', (ev) => {
      if (st.ws !== ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      handleEvent(msg);
    });
    ws.addEventListener('close', () => {
      if (st.ws !== ws) return;
      st.ws = null;
      setLink('down');
      scheduleReconnect();
    });
  }

  async function scheduleReconnect() {
    clearTimeout(st.wsTimer);
    if (st.loginShown) return;           // the sign-in reconnects
    const base = Math.min(WS_BACKOFF_MAX, WS_BACKOFF_MIN * 2 ** st.wsTries);
    st.wsTries++;
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    // A refused upgrade looks like any close: ask the API whether a session is needed.
    if (st.wsTries > 1) {
      const r = await api('GET', '/status');
      if (r.status === 401) return;
      if (r.ok) applyStatus(r.data);
    }
    st.wsTimer = setTimeout(connectWs, delay);
  }

  function handleEvent(m) {
    switch (m && m.type) {
      case 'hello':
        st.wsTries = 0;
        setLink('live');
        applyStatus(m.status);
        replacePorts(Array.isArray(m.ports) ? m.ports : []);
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
        addTraffic(m);
        break;
      case 'broker':
        setBroker(!!m.connected);
        break;
      default:
        break;
    }
  }

  // ---------- start ----------

  setInterval(() => { for (const name of st.rows.keys()) renderActivity(name); }, 1000);
  document.addEventListener('keydown', (ev) => {
    // "/" jumps to the send box, as in many consoles
    if (ev.key === '/' && !els.sendFieldset.disabled && !(ev.target instanceof HTMLInputElement) &&
        !(ev.target instanceof HTMLSelectElement) && !document.querySelector('dialog[open]')) {
      ev.preventDefault();
      els.sendForm.elements.data.focus();
    }
  });

  select(null);
  updateCount();
  setLink('connecting');
  // Even when the first load fails (gateway restarting), the websocket's hello
  // brings everything; only a needed sign-in holds it back.
  loadAll().then(() => { if (!st.loginShown) connectWs(); });
})();
