// The fleet: every gateway the broker knows under our prefix, kept from
// GET /api/v1/fleet and the websocket's {"type":"fleet"} events, and its page.
'use strict';

const KEEPALIVE_MS = 60000;   // the gateway stops watching after 5 min unasked

export function createFleet(o) {
  const { api, el, lineOf, fmtBytes, statusOf } = o;
  const gws = new Map();      // id -> {id, online, ports: [port objects], states: Map}
  let self = null;
  let prefix = 'mqttty';
  let isLoaded = false;
  let loading = null;
  let wantedNow = false;
  let timer = 0;
  let remote = null;          // {gw, name} whose traffic is followed
  let brokerUp = true;        // this gateway's own broker connection
  let scheduled = 0;
  let full = true;            // next render rebuilds everything
  const dirtyGws = new Set(); // ids whose card is rebuilt
  const dirtyStates = new Set(); // "id/name" whose row is updated in place
  const cardEls = new Map();  // id -> {card, rows: Map name -> <tr>}

  function gwOf(id) {
    let g = gws.get(id);
    if (!g) gws.set(id, g = { id, online: null, ports: [], states: new Map() });
    return g;
  }

  function setGateway(j) {
    const g = gwOf(j.id);
    g.online = j.online;
    g.ports = [];
    for (const p of Array.isArray(j.ports) ? j.ports : []) {
      if (!p || typeof p.name !== 'string') continue;
      const { state, ...cfg } = p;
      if (state !== undefined) { if (state) g.states.set(p.name, state); else g.states.delete(p.name); }
      g.ports.push(cfg);
    }
  }

  async function load() {
    if (loading) return loading;
    loading = (async () => {
      const r = await api('GET', '/fleet');
      loading = null;
      if (!r.ok || !r.data) {
        o.info.textContent = r.status === 0 ? '' : `Could not load the fleet: ${r.error}`;
        return;
      }
      if (r.data.prefix) prefix = r.data.prefix;
      gws.clear();
      for (const g of r.data.gateways || []) setGateway(g);
      isLoaded = true;
      full = true;
      changed();
    })();
    return loading;
  }

  function keepalive() {
    api('POST', '/fleet/watch', remote ? { gateway: remote.gw, port: remote.name } : {});
  }

  // Redraw at most twice a second: a big fleet sends thousands of changes.
  function changed() {
    if (scheduled) return;
    scheduled = setTimeout(() => {
      scheduled = 0;
      if (o.isShown()) render();
      o.onChange();
    }, 500);
  }

  function event(m) {
    switch (m.op) {
      case 'gateway': {
        const g = gwOf(m.id);
        g.online = m.online;
        if (Array.isArray(m.ports)) g.ports = m.ports.filter((p) => p && typeof p.name === 'string');
        else if (m.ports === null) g.ports = [];
        dirtyGws.add(m.id);
        break;
      }
      case 'states':
        for (const s of m.states || []) {
          const g = gwOf(s.gateway);
          if (s.state) g.states.set(s.name, s.state); else g.states.delete(s.name);
          dirtyStates.add(`${s.gateway}/${s.name}`);
        }
        break;
      case 'removed':
        gws.delete(m.id);
        dirtyGws.add(m.id);
        break;
      case 'watch':
        if (m.watching === false) { isLoaded = false; if (wantedNow) load(); }
        return;
      default:
        return;
    }
    changed();
  }

  function port(gw, name) {
    const g = gws.get(gw);
    if (!g) return null;
    const cfg = g.ports.find((p) => p.name === name);
    const state = g.states.get(name) || null;
    if (!cfg && !state) return null;
    return Object.assign({ name }, cfg || {}, { state });
  }

  function peersOf(full) {
    const out = [];
    for (const g of gws.values()) for (const p of g.ports) if (p.peer === full) out.push({ gw: g.id, name: p.name });
    return out;
  }

  function want(on) {
    wantedNow = on;
    clearInterval(timer);
    if (!on) { remote = null; return; }
    if (!isLoaded) load();
    timer = setInterval(keepalive, KEEPALIVE_MS);
  }

  async function watchPort(gw, name) {
    remote = { gw, name };
    return api('POST', '/fleet/watch', { gateway: gw, port: name });
  }

  // ---------- the page ----------

  function cables() {
    const seen = new Set();
    const out = [];
    for (const g of gws.values()) {
      for (const p of g.ports) {
        if (!p.peer) continue;
        const a = `${g.id}/${p.name}`;
        const [pg, pn] = p.peer.split('/');
        const other = (gws.get(pg) || { ports: [] }).ports.find((x) => x.name === pn);
        const two = other && other.peer === a;
        const k = two ? [a, p.peer].sort().join(' ') : `${a}>${p.peer}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ a, b: p.peer, two });
      }
    }
    return out;
  }

  const link = (full) => el('a', { href: `#/fleet/${full}` }, full);

  function header() {
    const list = [...gws.values()];
    o.empty.hidden = list.length > 0;
    o.empty.textContent = isLoaded ? 'No gateway has published on this broker yet.' : 'Looking for gateways on the broker…';
    const online = list.filter((g) => g.online === true).length;
    const nports = list.reduce((n, g) => n + g.ports.length, 0);
    o.info.textContent = isLoaded ? `${list.length} gateways (${online} online) · ${nports} ports · prefix ${prefix}` : '';
    staleNote();
    const cs = cables();
    o.cables.replaceChildren(...(cs.length ? [el('h3', null, 'Cables'), el('ul', { class: 'cable-list' },
      ...cs.map((c) => el('li', { 'data-cable': `${c.a} ${c.b}` }, link(c.a), c.two ? ' ⇄ ' : ' ← ', link(c.b),
        c.two ? '' : el('span', { class: 'muted' }, ` (one-way: ${c.a} receives ${c.b}'s tx)`))))] : []));
  }

  const order = (a, b) => (a.id === self ? -1 : b.id === self ? 1 : a.id.localeCompare(b.id));

  // Everything at once after a load; afterwards only the cards whose
  // gateway changed, and the rows whose state changed, in place.
  function render() {
    if (full) {
      full = false;
      dirtyGws.clear();
      dirtyStates.clear();
      cardEls.clear();
      const list = [...gws.values()].sort(order);
      o.root.replaceChildren(...list.map((g) => card(g).card));
      header();
      return;
    }
    if (dirtyGws.size) {
      for (const id of dirtyGws) {
        const old = cardEls.get(id);
        const g = gws.get(id);
        if (!g) { if (old) old.card.remove(); cardEls.delete(id); continue; }
        const fresh = card(g).card;
        if (old) { old.card.replaceWith(fresh); continue; }
        const after = [...gws.values()].sort(order).find((x) => order(x, g) > 0 && cardEls.has(x.id) && x.id !== id);
        o.root.insertBefore(fresh, after ? cardEls.get(after.id).card : null);
      }
      dirtyGws.clear();
      header();
    }
    for (const key of dirtyStates) {
      const i = key.indexOf('/');
      const id = key.slice(0, i);
      const name = key.slice(i + 1);
      const c = cardEls.get(id);
      const tr = c && c.rows.get(name);
      const g = gws.get(id);
      const p = g && g.ports.find((x) => x.name === name);
      if (tr && p) fillRow(tr, g, p);
    }
    dirtyStates.clear();
  }

  function fillRow(tr, g, p) {
    const full = Object.assign({}, p, { state: g.states.get(p.name) || null });
    const s = full.state || {};
    const stat = g.online === false ? { label: 'offline', cls: 'idle' } : statusOf(full, null);
    tr.dataset.open = String(!!s.open);
    const cells = tr.children;
    const badge = cells[2].firstElementChild;
    if (badge.textContent !== stat.label) { badge.textContent = stat.label; badge.className = `badge ${stat.cls}`; }
    const set = (td, t) => { if (td.textContent !== t) td.textContent = t; };
    set(cells[3], lineOf(full).text);
    set(cells[5], fmtBytes(s.tx_bytes));
    set(cells[6], fmtBytes(s.rx_bytes));
  }

  function card(g) {
    const pill = g.online === true ? ['ok', 'online'] : g.online === false ? ['bad', 'offline'] : ['idle', 'status unknown'];
    const rows = new Map();
    const trs = g.ports.slice().sort((a, b) => a.name.localeCompare(b.name)).map((p) => {
      const href = g.id === self ? `#/port/${encodeURIComponent(p.name)}` : `#/fleet/${g.id}/${p.name}`;
      const tr = el('tr', { 'data-port': p.name },
        el('th', { scope: 'row' }, el('a', { href }, p.name)),
        el('td', { 'data-label': 'Kind' }, p.kind || '–'),
        el('td', { 'data-label': 'Status', 'data-field': 'open' }, el('span', { class: 'badge' }, '')),
        el('td', { 'data-label': 'Line', class: 'mono' }),
        el('td', { 'data-label': 'Peer' }, p.peer ? link(p.peer) : '–'),
        el('td', { 'data-label': 'TX', class: 'num' }),
        el('td', { 'data-label': 'RX', class: 'num' }));
      fillRow(tr, g, p);
      rows.set(p.name, tr);
      return tr;
    });
    const c = el('article', { class: `gw-card${g.online === false ? ' offline' : ''}`, 'data-gateway': g.id },
      el('header', null, el('h3', null, g.id), el('span', { class: `badge ${pill[0]}`, 'data-field': 'online' }, pill[1]),
        g.id === self ? el('span', { class: 'muted' }, 'this gateway') : null),
      trs.length ? el('table', { class: 'ports fleet-ports' },
        el('thead', null, el('tr', null, ...['Port', 'Kind', 'Status', 'Line', 'Peer', 'TX', 'RX'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', null, ...trs)) : el('p', { class: 'muted' }, 'No ports.'));
    const entry = { card: c, rows };
    cardEls.set(g.id, entry);
    return entry;
  }

  // Without its broker this gateway hears nothing: the view may be stale.
  function staleNote() {
    o.root.classList.toggle('stale', !brokerUp);
    let n = document.getElementById('fleet-stale');
    if (!n) {
      n = el('p', { id: 'fleet-stale', class: 'notice', role: 'status' });
      o.root.before(n);
    }
    n.hidden = brokerUp;
    n.textContent = 'This gateway has lost the broker: what the fleet shows below may be out of date.';
  }

  return {
    unwatchPort() { remote = null; },
    setBroker(up) { if (brokerUp !== up) { brokerUp = up; staleNote(); if (up && wantedNow) load(); } },
    setSelf(id, pfx) { self = id || self; if (pfx) prefix = pfx; },
    prefix: () => prefix,
    port, peersOf, want, event, load, watchPort,
    render() { full = true; render(); },
    wanted: () => wantedNow,
    loaded: () => isLoaded,
    online: (id) => { const g = gws.get(id); return g ? g.online : null; },
  };
}
