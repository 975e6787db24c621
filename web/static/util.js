// Small helpers shared by the dashboard's modules: DOM, bytes, formats, API.
'use strict';

export const API = '/api/v1';

export function el(tag, attrs, ...children) {
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
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const hex2 = (b) => b.toString(16).padStart(2, '0').toUpperCase();

export function b64decode(s) {
  const bin = atob(s || '');
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function b64encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// Text with escapes -> bytes. Characters are UTF-8 encoded; \xHH is one byte.
// latin1: every character must be U+0000-U+00FF and becomes one byte.
export function parseEscapes(text, latin1) {
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
    } else if (n === 'x') throw new Error('\\x needs two hex digits, e.g. \\xFD');
    else if (n === undefined) throw new Error('a lone \\ at the end; write \\\\ for a backslash');
    else throw new Error(`unknown escape \\${n}; use \\r \\n \\t \\\\ or \\xHH`);
  }
  return new Uint8Array(out);
}

// "FE FE 94 E0 03 FD", "fefe94", "0xFE,0xFD" -> bytes
export function parseHex(text) {
  const s = text.replace(/0x/gi, '').replace(/[\s,:;-]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new Error('hex mode takes only hex digits, e.g. FE FE 94 E0 03 FD');
  if (s.length % 2) throw new Error('odd number of hex digits');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// A delimiter string (each char one byte) shown with escapes for the form.
export function escapeDelim(s) {
  let out = '';
  for (const ch of s || '') {
    const c = ch.charCodeAt(0);
    if (ch === '\\') out += '\\\\';
    else if (c === 13) out += '\\r';
    else if (c === 10) out += '\\n';
    else if (c === 9) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += '\\x' + hex2(c);
  }
  return out;
}

// Bytes as text a person reads: printable ASCII as is, control characters
// as their ASCII names in a chip (CR LF NUL …), other bytes as hex chips. Returns nodes,
// the special ones marked so CSS can tell them from real text.
// ASCII's own names: fonts often lack the control pictures (U+2400…).
const CTL = ['NUL', 'SOH', 'STX', 'ETX', 'EOT', 'ENQ', 'ACK', 'BEL', 'BS', 'TAB', 'LF', 'VT', 'FF', 'CR',
  'SO', 'SI', 'DLE', 'DC1', 'DC2', 'DC3', 'DC4', 'NAK', 'SYN', 'ETB', 'CAN', 'EM', 'SUB', 'ESC', 'FS', 'GS', 'RS', 'US'];
const PICT = (c) => (c === 0x7f ? 'DEL' : CTL[c]);
export function textNodes(bytes) {
  const out = [];
  let run = '';
  const flush = () => { if (run) { out.push(document.createTextNode(run)); run = ''; } };
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f) { run += String.fromCharCode(b); continue; }
    flush();
    if (b < 0x20 || b === 0x7f) out.push(el('span', { class: 'ctl', title: `0x${hex2(b)}` }, PICT(b)));
    else out.push(el('span', { class: 'ctl hi' }, hex2(b)));
    if (b === 0x0a) out.push(el('br'));
  }
  flush();
  return out;
}

export function isBinary(bytes) {
  if (!bytes.length) return false;
  let odd = 0;
  for (const b of bytes) if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b >= 0x7f) odd++;
  return odd * 4 > bytes.length;
}

// A hex dump with offsets: 16 bytes a line, hex and ASCII columns aligned.
export function hexDump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    let hex = '';
    let asc = '';
    for (let i = 0; i < 16; i++) {
      if (i < row.length) {
        hex += hex2(row[i]) + (i === 7 ? '  ' : ' ');
        asc += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : '.';
      } else {
        hex += i === 7 ? '    ' : '   ';
      }
    }
    lines.push(`${off.toString(16).padStart(4, '0')}  ${hex} |${asc}|`);
  }
  return lines.join('\n');
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 10000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n, u = -1;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function fmtAgo(ms) {
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

export function fmtClock(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function fmtGap(ms) {
  if (ms === null || ms === undefined || ms < 0) return '';
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 60000) return `+${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `+${Math.round(ms / 60000)} min`;
}

const PARITY = { none: 'N', even: 'E', odd: 'O', mark: 'M', space: 'S' };
const nil = (v) => v === null || v === undefined;

// "38400 8N1" from the port's state, else from its settings (marked
// "configured"). A pty always carries 8 data bits and no parity, which its
// state reports as unknown: shown as 8N, with the reason in the title.
export function lineOf(p) {
  const s = p.state || {};
  const live = p.state && s.open && !nil(s.baud);
  const src = live ? s : (p.kind === 'device' ? p : s);
  let db = src.data_bits, par = src.parity;
  let note = '';
  if (p.kind === 'pty' && nil(db) && nil(par)) { db = 8; par = 'none'; note = 'a pty always carries 8 data bits, no parity'; }
  const baud = nil(src.baud) ? (p.kind === 'device' ? p.baud : null) : src.baud;
  const sb = nil(src.stop_bits) ? (p.kind === 'device' ? p.stop_bits : null) : src.stop_bits;
  if (nil(baud) && nil(db) && nil(sb)) return { text: '–', title: 'line settings not known yet', configured: false };
  const frame = `${nil(db) ? '?' : db}${nil(par) ? '?' : (PARITY[par] || '?')}${nil(sb) ? '?' : sb}`;
  const text = `${nil(baud) ? '?' : baud} ${frame}`;
  const configured = !live && p.kind === 'device';
  return {
    text, configured,
    title: (configured ? 'configured (the device is not open)' : 'as the port reports it') + (note ? `; ${note}` : ''),
    flow: src.flow,
  };
}

export async function api(method, path, body, contentType) {
  const opt = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opt.headers['Content-Type'] = contentType || 'application/json';
    opt.body = contentType ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, opt);
  } catch {
    return { ok: false, status: 0, error: 'the gateway cannot be reached' };
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (res.ok) return { ok: true, status: res.status, data };
  const error = (data && typeof data.error === 'string') ? data.error
    : `${res.status} ${res.statusText || 'error'}`.trim();
  return { ok: false, status: res.status, error, data };
}

export const portPath = (name) => `/ports/${encodeURIComponent(name)}`;

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // not a secure context: the old way
    const ta = el('textarea', { class: 'visually-hidden' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}
