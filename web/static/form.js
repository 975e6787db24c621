// The add/edit port form: fields, limits and defaults from GET /schema,
// client-side checks, errors shown at their field (the server's too), and
// a confirmation before disabling a port an application holds open.
'use strict';

import { el, parseEscapes, escapeDelim } from './util.js';
import { FRAME_PRESETS } from './presets.js';
import { rfc2217Reach } from './rfc2217.js';

export function createForm(o) {
  const { els, st, api, portPath, confirmAction, showLogin } = o;
  const $ = (id) => document.getElementById(id);

  const form = els.portForm;
  const F = (n) => form.elements.namedItem(n);
  const FIELD_ORDER = ['data_bits', 'stop_bits', 'frame', 'device', 'baud', 'parity', 'flow', 'peer', 'follow', 'qos', 'enabled', 'dtr', 'rts', 'kind', 'name'];

  function schemaDefault(k, fallback) {
    const f = st.schema && st.schema[k];
    return f && f.default !== undefined && f.default !== null ? f.default : fallback;
  }

  function fillSelect(name, values, labels) {
    const sel = F(name);
    const cur = sel.value;
    sel.replaceChildren(...values.map((v) => el('option', { value: String(v) }, (labels && labels[v]) || String(v))));
    if (values.map(String).includes(cur)) sel.value = cur;
  }

  function range(k, lo, hi) {
    const f = st.schema && st.schema[k];
    const a = f && typeof f.min === 'number' ? f.min : lo;
    const b = f && typeof f.max === 'number' ? f.max : hi;
    const out = [];
    for (let i = b; i >= a; i--) out.push(i);
    return out;
  }

  // Selects, limits and help from GET /schema (one source of truth).
  function applySchema() {
    const s = st.schema || {};
    const vals = (k, d) => (s[k] && Array.isArray(s[k].values) ? s[k].values : d);
    fillSelect('kind', vals('kind', ['pty', 'device', 'cuse']));
    fillSelect('qos', range('qos', 0, 1));
    fillSelect('data_bits', range('data_bits', 5, 8));
    fillSelect('parity', vals('parity', ['none', 'even', 'odd', 'mark', 'space']));
    fillSelect('stop_bits', range('stop_bits', 1, 2).reverse());
    fillSelect('flow', vals('flow', ['none', 'rtscts', 'xonxoff']), { rtscts: 'RTS/CTS', xonxoff: 'XON/XOFF' });
    fillSelect('frame.mode', (s.frame && s.frame.modes) || ['raw', 'delim', 'idle']);
    if (s.baud) { F('baud').min = s.baud.min; F('baud').max = s.baud.max; }
    for (const k of ['dtr', 'rts', 'follow', 'peer', 'device', 'rfc2217']) {
      if (s[k] && s[k].help) F(k).title = s[k].help;
    }
  }

  // The kinds that use a field, from GET /schema.
  function kindUses(k, kind, fallback) {
    const f = st.schema && st.schema[k];
    return (f && Array.isArray(f.kinds) ? f.kinds : fallback).includes(kind);
  }

  function syncFormVisibility() {
    const kind = F('kind').value;
    const isDevice = kindUses('device', kind, ['device', 'rfc2217']);
    const remote = kind === 'rfc2217';
    els.deviceFields.disabled = !isDevice;
    els.deviceFields.hidden = !isDevice;
    $('device-legend').textContent = remote ? 'Serial port served over RFC 2217' : 'Serial device';
    $('device-label').textContent = remote ? 'Server URL' : 'Device path';
    F('device').placeholder = remote ? 'rfc2217://HOST:PORT' : '/dev/ttyUSB0';
    F('follow').disabled = !isDevice || !F('peer').value.trim();
    const r = rfc2217Reach(F('rfc2217').value);
    $('rfc2217-warning').hidden = !r || r.loopback;
    const mode = F('frame.mode').value;
    for (const n of form.querySelectorAll('.frame-delim')) n.hidden = mode !== 'delim';
    for (const n of form.querySelectorAll('.frame-idle')) n.hidden = mode !== 'idle';
    F('frame.delim').disabled = mode !== 'delim';
    F('frame.idle_ms').disabled = mode !== 'idle';
    $('lines-warning').classList.toggle('lit', F('dtr').checked || F('rts').checked);
  }
  for (const n of ['kind', 'frame.mode', 'dtr', 'rts']) F(n).addEventListener('change', syncFormVisibility);
  for (const n of ['peer', 'rfc2217']) F(n).addEventListener('input', syncFormVisibility);
  F('frame.preset').addEventListener('change', () => {
    const pr = FRAME_PRESETS[F('frame.preset').value];
    if (!pr) return;
    F('frame.mode').value = pr.mode;
    F('frame.delim').value = escapeDelim(pr.delim || '');
    F('frame.idle_ms').value = '';
    syncFormVisibility();
  });

  function clearErrors() {
    for (const e of form.querySelectorAll('.field-error')) { e.hidden = true; e.textContent = ''; }
    for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
    els.portError.hidden = true;
    els.portError.textContent = '';
  }

  // Show an error beside its field (the first field the sentence names), else
  // above the buttons.
  function fieldError(field, text) {
    const holder = field && $(`err-${field}`);
    if (!holder) {
      els.portError.textContent = text;
      els.portError.hidden = false;
      els.portError.scrollIntoView({ block: 'nearest' });
      return;
    }
    holder.textContent = text;
    holder.hidden = false;
    const input = field === 'frame' ? F('frame.mode') : F(field);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (!input.disabled) input.focus();
    }
    holder.scrollIntoView({ block: 'nearest' });
  }

  function fieldOfError(msg) {
    if (/^port name|name .* (taken|exists)|a port named/i.test(msg)) return 'name';
    if (/^rfc2217\b/.test(msg)) return 'rfc2217';
    if (/\bcuse\b/.test(msg) && !/\bframe\b/.test(msg)) return 'kind';
    for (const k of FIELD_ORDER) if (new RegExp(`\\b${k.replace('_', '[_ ]')}\\b`, 'i').test(msg)) return k;
    if (/delim|idle_ms|\bmax\b/.test(msg)) return 'frame';
    return null;
  }

  function fillForm(p) {
    const v = (x, d) => (x === null || x === undefined ? d : x);
    F('name').value = p ? p.name : '';
    F('kind').value = p ? v(p.kind, 'pty') : schemaDefault('kind', 'pty');
    F('qos').value = String(p ? v(p.qos, 1) : schemaDefault('qos', 1));
    F('peer').value = p ? v(p.peer, '') : '';
    F('rfc2217').value = p ? v(p.rfc2217, '') : '';
    F('enabled').checked = p ? p.enabled !== false : schemaDefault('enabled', true);
    F('device').value = p ? v(p.device, '') : '';
    F('baud').value = String(p ? v(p.baud, schemaDefault('baud', 9600)) : schemaDefault('baud', 9600));
    F('data_bits').value = String(p ? v(p.data_bits, 8) : schemaDefault('data_bits', 8));
    F('parity').value = p ? v(p.parity, 'none') : schemaDefault('parity', 'none');
    F('stop_bits').value = String(p ? v(p.stop_bits, 1) : schemaDefault('stop_bits', 1));
    F('flow').value = p ? v(p.flow, 'none') : schemaDefault('flow', 'none');
    F('dtr').checked = p ? !!p.dtr : schemaDefault('dtr', false);
    F('rts').checked = p ? !!p.rts : schemaDefault('rts', false);
    F('follow').checked = p ? !!p.follow : schemaDefault('follow', false);
    const fr = (p && p.frame) || schemaDefault('frame', { mode: 'raw', max: 4096 });
    F('frame.preset').value = '';
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
    clearErrors();
    if (!els.portDialog.open) els.portDialog.showModal();
    (p ? F('peer') : F('name')).focus();
  }

  function intOf(n, field, label) {
    const s = F(n).value.trim();
    if (s === '') return null;
    const x = Number(s);
    if (!Number.isInteger(x)) { const e = new Error(`${label} must be a whole number`); e.field = field; throw e; }
    return x;
  }

  function readForm() {
    const kind = F('kind').value;
    const name = F('name').value.trim();
    const pat = st.schema && st.schema.name && st.schema.name.pattern ? new RegExp(st.schema.name.pattern) : /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,31}$/;
    if (!st.editing && !pat.test(name)) {
      const e = new Error(!name ? 'Give the port a name.'
        : name.startsWith('.') ? 'A name may not start with a dot.'
          : name.length > 32 ? 'A name has at most 32 characters.'
            : `"${name}" has characters a name cannot hold: use letters, digits, _ . - only (no spaces).`);
      e.field = 'name';
      throw e;
    }
    const s = { name, kind, enabled: F('enabled').checked, qos: Number(F('qos').value), peer: F('peer').value.trim() || null };
    if (s.peer && !/^[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,31}$/.test(s.peer)) {
      const e = new Error('Peer is GATEWAY/PORT, e.g. home/kx3.');
      e.field = 'peer';
      throw e;
    }
    s.rfc2217 = F('rfc2217').value.trim() || null;
    if (s.rfc2217 && !rfc2217Reach(s.rfc2217)) {
      const e = new Error('RFC 2217 is ADDR:PORT, e.g. 127.0.0.1:4001 (or 0.0.0.0:4001 for every address).');
      e.field = 'rfc2217';
      throw e;
    }
    if (kindUses('device', kind, ['device', 'rfc2217'])) {
      s.device = F('device').value.trim() || null;
      s.baud = intOf('baud', 'baud', 'Baud');
      s.data_bits = Number(F('data_bits').value);
      s.parity = F('parity').value;
      s.stop_bits = Number(F('stop_bits').value);
      s.flow = F('flow').value;
      s.dtr = F('dtr').checked;
      s.rts = F('rts').checked;
      s.follow = F('follow').checked && !!s.peer;
    }
    const frame = { mode: F('frame.mode').value, max: intOf('frame.max', 'frame', 'Max bytes') };
    if (frame.max === null) delete frame.max;
    if (frame.mode === 'delim') {
      try { frame.delim = String.fromCharCode(...parseEscapes(F('frame.delim').value, true)); } catch (e) { e.field = 'frame'; throw e; }
      if (!frame.delim.length) { const e = new Error('delim mode needs a delimiter, e.g. ; or \\xFD'); e.field = 'frame'; throw e; }
    }
    if (frame.mode === 'idle') {
      const ms = intOf('frame.idle_ms', 'frame', 'Idle ms');
      if (ms !== null) frame.idle_ms = ms;
    }
    s.frame = frame;
    return s;
  }

  const same = (a, b) => (a === undefined ? null : a) === (b === undefined ? null : b);

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
    clearErrors();
    let settings;
    try { settings = readForm(); } catch (e) { fieldError(e.field, e.message); return; }
    const saveBtn = $('port-save');
    let r;
    if (st.editing) {
      const orig = st.ports.get(st.editing);
      if (!orig) { fieldError(null, 'This port no longer exists.'); return; }
      const patch = diffSettings(orig, settings);
      if (!Object.keys(patch).length) { els.portDialog.close(); return; }
      if (patch.enabled === false && orig.state && orig.state.open &&
          !(await confirmAction(`Disable ${orig.name} while it is open?`,
            `${orig.name} is in use: an application holds it open. Disabling closes it at once; the application gets an error on every read and write.`, 'Disable'))) return;
      saveBtn.disabled = true;
      r = await api('PATCH', portPath(st.editing), patch);
    } else {
      if (settings.peer === null) delete settings.peer;
      if (settings.rfc2217 === null) delete settings.rfc2217;
      if (settings.device === null) delete settings.device;
      saveBtn.disabled = true;
      r = await api('POST', '/ports', settings);
    }
    saveBtn.disabled = false;
    if (!r.ok) {
      if (r.status === 401) { fieldError(null, 'Sign in, then save again.'); showLogin(); return; }
      fieldError(fieldOfError(r.error), r.error);
      return;
    }
    const created = !st.editing;
    els.portDialog.close();
    if (r.data && r.data.name) o.onSaved(r.data, created);
  });

  els.addPort.addEventListener('click', () => openForm(null));
  els.portCancel.addEventListener('click', () => els.portDialog.close());

  return { open: openForm, applySchema };
}
