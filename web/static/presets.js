// Radio/protocol presets for the console: the framing that cuts their
// messages and a few harmless commands (the ones that key a transmitter
// are marked and asked about before sending).
'use strict';

function nmea(body) {
  let cs = 0;
  for (const ch of body) cs ^= ch.charCodeAt(0);
  return `$${body}*${cs.toString(16).toUpperCase().padStart(2, '0')}`;
}

export const PRESETS = {
  kenwood: {
    label: 'Kenwood / Elecraft',
    frame: { mode: 'delim', delim: ';' },
    mode: 'text', eol: '',
    commands: [
      ['FA;', 'VFO A frequency'], ['IF;', 'status'], ['MD;', 'mode'], ['ID;', 'radio id'],
      ['PS;', 'power status'], ['TX;', 'transmit', true], ['RX;', 'receive'],
    ],
  },
  yaesu: {
    label: 'Yaesu (FT-991, FTDX…)',
    frame: { mode: 'delim', delim: ';' },
    mode: 'text', eol: '',
    commands: [
      ['FA;', 'VFO A frequency'], ['IF;', 'status'], ['MD0;', 'mode'], ['ID;', 'radio id'],
      ['TX1;', 'transmit', true], ['TX0;', 'receive'],
    ],
  },
  yaesu5: {
    label: 'Yaesu 5-byte CAT (FT-817/857/897)',
    frame: { mode: 'idle' },
    mode: 'hex', eol: '',
    commands: [
      ['00 00 00 00 03', 'frequency and mode'], ['00 00 00 00 E7', 'receive status'],
      ['00 00 00 00 F7', 'transmit status'], ['00 00 00 00 08', 'PTT on', true],
      ['00 00 00 00 88', 'PTT off'],
    ],
  },
  civ: {
    label: 'Icom CI-V (radio address 94, e.g. IC-7300)',
    frame: { mode: 'delim', delim: '\u00fd' },
    mode: 'hex', eol: '',
    commands: [
      ['FE FE 94 E0 03 FD', 'frequency'], ['FE FE 94 E0 04 FD', 'mode'],
      ['FE FE 94 E0 19 00 FD', 'radio id'], ['FE FE 94 E0 1C 00 01 FD', 'transmit', true],
      ['FE FE 94 E0 1C 00 00 FD', 'receive'],
    ],
  },
  nmea: {
    label: 'NMEA 0183',
    frame: { mode: 'delim', delim: '\n' },
    mode: 'text', eol: '\r\n',
    commands: [
      [nmea('PMTK605'), 'MediaTek: firmware'], [nmea('PUBX,00'), 'u-blox: position'],
      [nmea('PMTK220,1000'), 'MediaTek: 1 Hz'],
    ],
  },
};

// The form's framing presets, by name.
export const FRAME_PRESETS = {
  raw: { mode: 'raw' },
  kenwood: { mode: 'delim', delim: ';' },
  civ: { mode: 'delim', delim: '\u00fd' },
  nmea: { mode: 'delim', delim: '\n' },
  yaesu5: { mode: 'idle' },
};

export function frameText(fr) {
  if (!fr || !fr.mode) return '–';
  if (fr.mode === 'delim') {
    const d = [...(fr.delim || '')].map((c) => {
      const x = c.charCodeAt(0);
      if (x === 13) return 'CR';
      if (x === 10) return 'LF';
      return x >= 0x21 && x < 0x7f ? c : x.toString(16).toUpperCase().padStart(2, '0');
    }).join(' ');
    return `ends with ${d}`;
  }
  if (fr.mode === 'idle') return fr.idle_ms ? `idle ${fr.idle_ms} ms` : 'idle (auto)';
  return 'raw';
}

export function frameMatches(fr, want) {
  if (!fr || fr.mode !== want.mode) return false;
  return want.mode !== 'delim' || fr.delim === want.delim;
}
