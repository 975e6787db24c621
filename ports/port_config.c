/* port_config — validation and JSON mapping of port settings. */
#include "port_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = { "pty", "device", "cuse", "rfc2217" };
static const char *const parity_names[] = { "none", "even", "odd", "mark", "space" };
static const char *const flow_names[] = { "none", "rtscts", "xonxoff" };
static const char *const frame_names[] = { "raw", "delim", "idle" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int enum_parse(const char *const *names, size_t n, const char *s, int *out)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0) {
			*out = (int)i;
			return 0;
		}
	return -1;
}

/* NULL for a value outside the enum (e.g. a damaged stored row). */
const char *port_kind_name(enum port_kind k)
{
	return (unsigned)k < NELEM(kind_names) ? kind_names[k] : NULL;
}

const char *port_parity_name(enum port_parity p)
{
	return (unsigned)p < NELEM(parity_names) ? parity_names[p] : NULL;
}

const char *port_flow_name(enum port_flow f)
{
	return (unsigned)f < NELEM(flow_names) ? flow_names[f] : NULL;
}

int port_kind_parse(const char *s, enum port_kind *out)
{
	int v;
	if (enum_parse(kind_names, NELEM(kind_names), s, &v) < 0)
		return -1;
	*out = (enum port_kind)v;
	return 0;
}

int port_parity_parse(const char *s, enum port_parity *out)
{
	int v;
	if (enum_parse(parity_names, NELEM(parity_names), s, &v) < 0)
		return -1;
	*out = (enum port_parity)v;
	return 0;
}

int port_flow_parse(const char *s, enum port_flow *out)
{
	int v;
	if (enum_parse(flow_names, NELEM(flow_names), s, &v) < 0)
		return -1;
	*out = (enum port_flow)v;
	return 0;
}

void port_config_defaults(struct port_config *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = PORT_KIND_PTY;
	c->baud = 9600;
	c->data_bits = 8;
	c->parity = PARITY_NONE;
	c->stop_bits = 1;
	c->flow = FLOW_NONE;
	c->frame.mode = FRAME_RAW;
	c->frame.max = 4096;
	c->qos = 1;
	c->enabled = true;
}

static int ident_check(const char *what, const char *s, size_t max, bool allow_dot,
		       char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n > max) {
		snprintf(err, errlen, "%s must be 1 to %zu characters long", what, max);
		return -1;
	}
	if (s[0] == '.') {
		snprintf(err, errlen, "%s \"%s\" must not start with '.'", what, s);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (isascii(ch) && (isalnum(ch) || ch == '_' || ch == '-' || (allow_dot && ch == '.')))
			continue;
		snprintf(err, errlen, "%s \"%.*s\" may only contain letters, digits, '_', '-'%s",
			 what, (int)(max + 1), s, allow_dot ? " and '.'" : "");
		return -1;
	}
	return 0;
}

int port_name_check(const char *name, char *err, size_t errlen)
{
	return ident_check("port name", name, PORT_NAME_MAX, true, err, errlen);
}

int gateway_id_check(const char *id, char *err, size_t errlen)
{
	return ident_check("gateway id", id, 64, false, err, errlen);
}

/* ---- frame ---------------------------------------------------------- */

json_t *frame_cfg_to_json(const struct frame_cfg *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "mode", json_string(frame_names[f->mode]));
	if (f->mode == FRAME_DELIM) {
		/* Each delimiter byte is the code point U+00XX. */
		char buf[FRAME_DELIM_MAX * 2 + 1];
		size_t n = 0;
		for (size_t i = 0; i < f->delim_len; i++) {
			uint8_t b = f->delim[i];
			if (b < 0x80) {
				buf[n++] = (char)b;
			} else {
				buf[n++] = (char)(0xC0 | (b >> 6));
				buf[n++] = (char)(0x80 | (b & 0x3F));
			}
		}
		json_object_set_new(o, "delim", json_stringn(buf, n));
	}
	if (f->mode == FRAME_IDLE && f->idle_ms)
		json_object_set_new(o, "idle_ms", json_integer(f->idle_ms));
	json_object_set_new(o, "max", json_integer(f->max));
	return o;
}

/* Decode a JSON string of code points U+0000..U+00FF into bytes. */
static int delim_decode(json_t *v, struct frame_cfg *f)
{
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t len = json_string_length(v), n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned cp = s[i];
		if (cp >= 0x80) {
			if ((cp & 0xFE) != 0xC2 || i + 1 >= len)
				return -1;   /* above U+00FF */
			cp = ((cp & 0x1F) << 6) | (s[++i] & 0x3F);
		}
		if (n == FRAME_DELIM_MAX)
			return -1;
		f->delim[n++] = (uint8_t)cp;
	}
	if (n == 0)
		return -1;
	f->delim_len = (uint8_t)n;
	return 0;
}

int frame_cfg_from_json(struct frame_cfg *out, json_t *v, char *err, size_t errlen)
{
	struct frame_cfg f = { .mode = FRAME_RAW, .max = 4096 };
	const char *key;
	json_t *val;

	if (!json_is_object(v)) {
		snprintf(err, errlen, "frame must be an object like {\"mode\":\"raw\",\"max\":4096}");
		return -1;
	}
	val = json_object_get(v, "mode");
	if (val) {
		int m;
		if (!json_is_string(val) || enum_parse(frame_names, NELEM(frame_names),
						       json_string_value(val), &m) < 0) {
			snprintf(err, errlen, "frame.mode must be \"raw\", \"delim\" or \"idle\"");
			return -1;
		}
		f.mode = (enum frame_mode)m;
	}
	json_object_foreach(v, key, val) {
		/* null = "not set" (a form may send every key of every mode) */
		if (strcmp(key, "mode") == 0 || json_is_null(val))
			continue;
		if (strcmp(key, "max") == 0) {
			json_int_t m = json_is_integer(val) ? json_integer_value(val) : 0;
			if (m < 1 || m > FRAME_MAX_LIMIT) {
				snprintf(err, errlen, "frame.max must be an integer from 1 to %d",
					 FRAME_MAX_LIMIT);
				return -1;
			}
			f.max = (uint32_t)m;
		} else if (strcmp(key, "delim") == 0 && f.mode == FRAME_DELIM) {
			if (!json_is_string(val) || delim_decode(val, &f) < 0) {
				snprintf(err, errlen, "frame.delim must be a string of 1 to 8 "
					 "characters in U+0000..U+00FF");
				return -1;
			}
		} else if (strcmp(key, "idle_ms") == 0 && f.mode == FRAME_IDLE) {
			json_int_t m = json_is_integer(val) ? json_integer_value(val) : 0;
			if (m < 1 || m > 3600000) {
				snprintf(err, errlen, "frame.idle_ms must be an integer from 1 to 3600000");
				return -1;
			}
			f.idle_ms = (uint32_t)m;
		} else {
			snprintf(err, errlen, "frame.%s is not a field of frame mode \"%s\"",
				 key, frame_names[f.mode]);
			return -1;
		}
	}
	if (f.mode == FRAME_DELIM && f.delim_len == 0) {
		snprintf(err, errlen, "frame.delim is required for frame mode \"delim\"");
		return -1;
	}
	*out = f;
	return 0;
}

/* ---- the field table ------------------------------------------------- */

#define OFF(m) offsetof(struct port_config, m)
#define SZ(m) sizeof(((struct port_config *)0)->m)
#define K(k) (1u << (k))
#define K_ALL 0u
#define K_DEV (K(PORT_KIND_DEVICE) | K(PORT_KIND_RFC2217))

_Static_assert(sizeof(enum port_kind) == sizeof(int) && sizeof(enum port_parity) == sizeof(int) &&
	       sizeof(enum port_flow) == sizeof(int) && sizeof(uint32_t) == sizeof(int),
	       "integer and enum fields are read as int");

/* One row per setting, in the contract's order. Everything that walks the
 * settings (JSON both ways, merge-patch reset, equality and diff, the
 * store's columns, the schema) reads this table. */
static const struct port_field fields[] = {
	{ "name", PF_NAME, OFF(name), SZ(name), 0, 0, NULL, 0, PFX_FIXED, K_ALL, false,
	  "port name: LINK_DIR/NAME and the topic level" },
	{ "kind", PF_ENUM, OFF(kind), 0, 0, 0, kind_names, NELEM(kind_names), PFX_FIXED, K_ALL,
	  false, "pty, device, cuse or rfc2217" },
	{ "device", PF_PATH, OFF(device), SZ(device), 0, 0, NULL, 0, PFX_REOPEN, K_DEV, true,
	  "device ports: the path to open" },
	{ "baud", PF_INT, OFF(baud), 0, 1, 20000000, NULL, 0, PFX_LINE, K_DEV, false,
	  "initial line speed" },
	{ "data_bits", PF_INT, OFF(data_bits), 0, 5, 8, NULL, 0, PFX_LINE, K_DEV, false,
	  "initial data bits" },
	{ "parity", PF_ENUM, OFF(parity), 0, 0, 0, parity_names, NELEM(parity_names), PFX_LINE,
	  K_DEV, false, "initial parity" },
	{ "stop_bits", PF_INT, OFF(stop_bits), 0, 1, 2, NULL, 0, PFX_LINE, K_DEV, false,
	  "initial stop bits" },
	{ "flow", PF_ENUM, OFF(flow), 0, 0, 0, flow_names, NELEM(flow_names), PFX_LINE, K_DEV,
	  false, "initial flow control" },
	{ "dtr", PF_BOOL, OFF(dtr), 0, 0, 0, NULL, 0, PFX_LINE, K_DEV, false,
	  "DTR right after opening (may key a transmitter or reset a board)" },
	{ "rts", PF_BOOL, OFF(rts), 0, 0, 0, NULL, 0, PFX_LINE, K_DEV, false,
	  "RTS right after opening (may key a transmitter)" },
	{ "peer", PF_PEER, OFF(peer), SZ(peer), 0, 0, NULL, 0, PFX_PEER, K_ALL, true,
	  "GATEWAY/PORT whose tx this port receives and whose state it watches" },
	{ "follow", PF_BOOL, OFF(follow), 0, 0, 0, NULL, 0, PFX_PEER, K_DEV, false,
	  "apply the peer's line state to the device" },
	{ "frame", PF_FRAME, OFF(frame), 0, 0, 0, frame_names, NELEM(frame_names), PFX_FRAME,
	  K_ALL, false, "how tx bytes are cut into MQTT messages" },
	{ "qos", PF_INT, OFF(qos), 0, 0, 1, NULL, 0, PFX_QOS, K_ALL, false,
	  "MQTT QoS of tx and rx" },
	{ "enabled", PF_BOOL, OFF(enabled), 0, 0, 0, NULL, 0, PFX_REOPEN, K_ALL, false,
	  "a disabled port keeps its config but has no link" },
	{ "rfc2217", PF_ADDR, OFF(rfc2217), SZ(rfc2217), 0, 0, NULL, 0, PFX_SERVE, K_ALL, true,
	  "ADDR:PORT where the port is served to one RFC 2217 (network serial) client" },
};

size_t port_field_count(void)
{
	return NELEM(fields);
}

const struct port_field *port_field_at(size_t i)
{
	return i < NELEM(fields) ? &fields[i] : NULL;
}

static const struct port_field *field_find(const char *name)
{
	for (size_t i = 0; i < NELEM(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

#define FIELD_PTR(c, f, type) ((type *)((char *)(c) + (f)->off))
#define FIELD_CPTR(c, f, type) ((const type *)((const char *)(c) + (f)->off))

json_t *port_field_get(const struct port_config *c, const struct port_field *f)
{
	const char *s;

	switch (f->type) {
	case PF_NAME: case PF_PATH: case PF_PEER: case PF_ADDR:
		s = FIELD_CPTR(c, f, char);
		return s[0] || !f->nullable ? json_string(s) : json_null();
	case PF_INT:
		return json_integer(*FIELD_CPTR(c, f, int));
	case PF_BOOL:
		return json_boolean(*FIELD_CPTR(c, f, bool));
	case PF_ENUM:
		return json_string(f->names[*FIELD_CPTR(c, f, int)]);
	case PF_FRAME:
		return frame_cfg_to_json(FIELD_CPTR(c, f, struct frame_cfg));
	}
	return json_null();
}

json_t *port_config_to_json(const struct port_config *c)
{
	json_t *o = json_object();

	for (size_t i = 0; i < NELEM(fields); i++)
		json_object_set_new(o, fields[i].name, port_field_get(c, &fields[i]));
	return o;
}

static int want_int(json_t *v, const char *name, json_int_t lo, json_int_t hi,
		    json_int_t *out, char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errlen, "%s must be an integer from %lld to %lld", name,
			 (long long)lo, (long long)hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int want_enum(json_t *v, const char *name, const char *const *names, size_t n,
		     int *out, char *err, size_t errlen)
{
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    enum_parse(names, n, json_string_value(v), out) < 0) {
		size_t len = (size_t)snprintf(err, errlen, "%s must be one of", name);
		for (size_t i = 0; i < n && len < errlen; i++)
			len += (size_t)snprintf(err + len, errlen - len, "%s \"%s\"",
						i ? "," : "", names[i]);
		return -1;
	}
	return 0;
}

/* A string value that may hold no U+0000: its length comes from the
 * parser, so "a\u0000b" is refused instead of being cut to "a". */
static const char *want_text(json_t *v, const char *name, char *err, size_t errlen)
{
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s must be a string", name);
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s must not contain U+0000", name);
		return NULL;
	}
	return json_string_value(v);
}

static int peer_check(const char *s, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	char gw[65], tmp[128];

	if (!slash || (size_t)(slash - s) >= sizeof(gw)) {
		snprintf(err, errlen, "peer must be \"GATEWAY/PORT\"");
		return -1;
	}
	memcpy(gw, s, (size_t)(slash - s));
	gw[slash - s] = '\0';
	if (gateway_id_check(gw, tmp, sizeof(tmp)) < 0 ||
	    port_name_check(slash + 1, tmp, sizeof(tmp)) < 0) {
		snprintf(err, errlen, "peer must be \"GATEWAY/PORT\": %s", tmp);
		return -1;
	}
	return 0;
}

int port_addr_check(const char *s, bool *loopback, char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	unsigned char bin[16];
	size_t hl = colon ? (size_t)(colon - s) : 0;
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	bool v6 = hl >= 2 && s[0] == '[' && s[hl - 1] == ']';

	if (!colon || !colon[1] || *end || port < 1 || port > 65535 || hl == 0 ||
	    hl - (v6 ? 2 : 0) >= sizeof(host)) {
		snprintf(err, errlen, "rfc2217 must be \"ADDR:PORT\" (e.g. \"127.0.0.1:4001\")");
		return -1;
	}
	memcpy(host, s + v6, hl - 2 * v6);
	host[hl - 2 * v6] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) != 1) {
		snprintf(err, errlen, "rfc2217: \"%.40s\" is not a numeric %s address", host,
			 v6 ? "IPv6" : "IPv4");
		return -1;
	}
	if (loopback)
		*loopback = v6 ? memcmp(bin, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0
			       : bin[0] == 127;
	return 0;
}

/* Restore one field to its default (a merge-patch `null`). */
static void field_reset(struct port_config *c, const struct port_field *f)
{
	struct port_config d;

	port_config_defaults(&d);
	memcpy((char *)c + f->off, (const char *)&d + f->off,
	       f->size ? f->size : f->type == PF_BOOL ? sizeof(bool)
	       : f->type == PF_FRAME ? sizeof(struct frame_cfg) : sizeof(int));
}

int port_field_set(struct port_config *c, const struct port_field *f, json_t *v,
		   char *err, size_t errlen)
{
	const char *s;
	json_int_t i;
	int e;

	if (json_is_null(v)) {
		if (!f->nullable && f->type != PF_INT && f->type != PF_BOOL &&
		    f->type != PF_ENUM && f->type != PF_FRAME) {
			snprintf(err, errlen, "%s must not be null", f->name);
			return -1;
		}
		if (f->effect & PFX_FIXED) {
			snprintf(err, errlen, "%s must not be null", f->name);
			return -1;
		}
		field_reset(c, f);
		return 0;
	}
	switch (f->type) {
	case PF_NAME: case PF_PATH: case PF_PEER: case PF_ADDR:
		if (!(s = want_text(v, f->name, err, errlen)))
			return -1;
		if (f->type == PF_ADDR && port_addr_check(s, NULL, err, errlen) < 0)
			return -1;
		if (f->type == PF_NAME && port_name_check(s, err, errlen) < 0)
			return -1;
		if (f->type == PF_PATH && ((s[0] != '/' && strncmp(s, "rfc2217://", 10) != 0) ||
					   json_string_length(v) >= f->size)) {
			snprintf(err, errlen, "%s must be an absolute path (or, for an rfc2217 port, "
				 "rfc2217://HOST:PORT) of at most %zu bytes", f->name, f->size - 1);
			return -1;
		}
		if (f->type == PF_PEER && peer_check(s, err, errlen) < 0)
			return -1;
		snprintf(FIELD_PTR(c, f, char), f->size, "%s", s);
		return 0;
	case PF_INT:
		if (want_int(v, f->name, f->lo, f->hi, &i, err, errlen) < 0)
			return -1;
		*FIELD_PTR(c, f, int) = (int)i;
		return 0;
	case PF_BOOL:
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "%s must be true or false", f->name);
			return -1;
		}
		*FIELD_PTR(c, f, bool) = json_is_true(v);
		return 0;
	case PF_ENUM:
		if (want_enum(v, f->name, f->names, f->nnames, &e, err, errlen) < 0)
			return -1;
		*FIELD_PTR(c, f, int) = e;
		return 0;
	case PF_FRAME:
		return frame_cfg_from_json(FIELD_PTR(c, f, struct frame_cfg), v, err, errlen);
	}
	return -1;
}

static const char *const type_names[] = {
	[PF_NAME] = "string", [PF_PATH] = "string", [PF_PEER] = "string",
	[PF_INT] = "integer", [PF_BOOL] = "boolean", [PF_ENUM] = "enum",
	[PF_FRAME] = "object", [PF_ADDR] = "string",
};

static json_t *names_json(const char *const *names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

json_t *port_config_schema_json(void)
{
	json_t *o = json_object();
	struct port_config d;

	port_config_defaults(&d);
	for (size_t i = 0; i < NELEM(fields); i++) {
		const struct port_field *f = &fields[i];
		json_t *r = json_object();
		json_t *kinds;

		json_object_set_new(r, "type", json_string(type_names[f->type]));
		json_object_set_new(r, "default", f->type == PF_NAME ? json_null()
				    : port_field_get(&d, f));
		json_object_set_new(r, "nullable", json_boolean(f->nullable));
		if (f->type == PF_INT) {
			json_object_set_new(r, "min", json_integer(f->lo));
			json_object_set_new(r, "max", json_integer(f->hi));
		} else if (f->type == PF_ENUM || f->type == PF_FRAME) {
			json_object_set_new(r, f->type == PF_FRAME ? "modes" : "values",
					    names_json(f->names, f->nnames));
		} else if (f->type == PF_NAME) {
			json_object_set_new(r, "pattern", json_string("^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,31}$"));
		} else if (f->type == PF_ADDR) {
			json_object_set_new(r, "pattern", json_string("^(IPV4|\\[IPV6\\]):PORT$"));
		} else if (f->type == PF_PEER) {
			json_object_set_new(r, "pattern", json_string("^[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,31}$"));
		}
		kinds = json_array();
		for (size_t k = 0; k < NELEM(kind_names); k++)
			if (!f->kinds || (f->kinds & (1u << k)))
				json_array_append_new(kinds, json_string(kind_names[k]));
		json_object_set_new(r, "kinds", kinds);
		json_object_set_new(r, "fixed", json_boolean(f->effect & PFX_FIXED));
		json_object_set_new(r, "reopens", json_boolean(f->effect & (PFX_REOPEN | PFX_LINE)));
		json_object_set_new(r, "help", json_string(f->help));
		json_object_set_new(o, f->name, r);
	}
	return o;
}

unsigned port_config_diff(const struct port_config *a, const struct port_config *b)
{
	unsigned d = 0;

	for (size_t i = 0; i < NELEM(fields); i++) {
		const struct port_field *f = &fields[i];
		json_t *x = port_field_get(a, f), *y = port_field_get(b, f);
		unsigned fx = f->effect;

		if (!json_equal(x, y)) {
			/* line settings are applied when a device is opened */
			if ((fx & PFX_LINE) && (a->kind == PORT_KIND_DEVICE ||
						a->kind == PORT_KIND_RFC2217))
				fx |= PFX_REOPEN;
			d |= fx | PFX_CHANGED;
		}
		json_decref(x);
		json_decref(y);
	}
	return d;
}

bool port_config_equal(const struct port_config *a, const struct port_config *b)
{
	return port_config_diff(a, b) == 0;
}

/* PATCH of frame: a JSON merge patch (RFC 7396) onto the current frame,
 * except that a new mode drops the old mode's own keys (delim, idle_ms),
 * which would not apply to it; max is common to all modes and kept. */
static int frame_patch(struct frame_cfg *f, json_t *patch, char *err, size_t errlen)
{
	json_t *mode = json_object_get(patch, "mode");
	json_t *cur = frame_cfg_to_json(f), *merged;

	const char *key;
	json_t *v;
	int rc;

	merged = json_copy(cur);
	if (json_is_string(mode) && !json_equal(mode, json_object_get(cur, "mode"))) {
		json_object_del(merged, "delim");
		json_object_del(merged, "idle_ms");
	}
	json_object_foreach(patch, key, v) {
		if (json_is_null(v))
			json_object_del(merged, key);
		else
			json_object_set(merged, key, v);
	}
	rc = frame_cfg_from_json(f, merged, err, errlen);
	json_decref(cur);
	json_decref(merged);
	return rc;
}

static int cross_check(const struct port_config *c, const char *self_id,
		       char *err, size_t errlen)
{
	if (c->name[0] == '\0') {
		snprintf(err, errlen, "name is required");
		return -1;
	}
	bool dev = c->kind == PORT_KIND_DEVICE || c->kind == PORT_KIND_RFC2217;

	if (dev && c->device[0] == '\0') {
		snprintf(err, errlen, "device is required for a port of kind \"%s\"",
			 port_kind_name(c->kind));
		return -1;
	}
	if (!dev && c->device[0]) {
		snprintf(err, errlen, "device applies only to ports of kind \"device\" or \"rfc2217\"");
		return -1;
	}
	if (dev && (c->kind == PORT_KIND_RFC2217) != (strncmp(c->device, "rfc2217://", 10) == 0)) {
		snprintf(err, errlen, c->kind == PORT_KIND_RFC2217
			 ? "an rfc2217 port's device must be \"rfc2217://HOST:PORT\""
			 : "a device port's device must be an absolute path");
		return -1;
	}
	if (c->follow && (!dev || c->peer[0] == '\0')) {
		snprintf(err, errlen, "follow needs a port of kind \"device\" or \"rfc2217\" with a peer");
		return -1;
	}
	if (c->peer[0] && self_id) {
		size_t n = strlen(self_id);
		if (strncmp(c->peer, self_id, n) == 0 && c->peer[n] == '/' &&
		    strcmp(c->peer + n + 1, c->name) == 0) {
			snprintf(err, errlen, "peer must not be the port itself");
			return -1;
		}
	}
	return 0;
}

int port_config_apply_json(struct port_config *c, json_t *obj, bool create,
			   const char *self_id, char *err, size_t errlen)
{
	struct port_config n = *c;
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		snprintf(err, errlen, "the body must be a JSON object of port settings");
		return -1;
	}
	json_object_foreach(obj, key, v) {
		const struct port_field *f = field_find(key);
		if (!f) {
			if (strcmp(key, "path") == 0 || strcmp(key, "state") == 0)
				continue;
			snprintf(err, errlen, "%.40s is not a port setting", key);
			return -1;
		}
		if (!create && (f->effect & PFX_FIXED)) {
			json_t *cur = port_field_get(c, f);
			bool same = json_equal(cur, v);
			json_decref(cur);
			if (!same) {
				snprintf(err, errlen, "%s cannot be changed once a port exists", key);
				return -1;
			}
			continue;
		}
		if (!create && f->type == PF_FRAME && json_is_object(v)) {
			if (frame_patch(&n.frame, v, err, errlen) < 0)
				return -1;
			continue;
		}
		if (port_field_set(&n, f, v, err, errlen) < 0)
			return -1;
	}
	if (cross_check(&n, self_id, err, errlen) < 0)
		return -1;
	*c = n;
	return 0;
}
