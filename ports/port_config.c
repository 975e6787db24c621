/* port_config — validation and JSON mapping of port settings. */
#include "port_config.h"

#include <ctype.h>
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

enum ftype { F_NAME, F_KIND, F_DEVICE, F_BAUD, F_DATABITS, F_PARITY, F_STOPBITS,
	     F_FLOW, F_DTR, F_RTS, F_PEER, F_FOLLOW, F_FRAME, F_QOS, F_ENABLED };

struct field {
	const char *name;
	enum ftype type;
};

static const struct field fields[] = {
	{ "name", F_NAME }, { "kind", F_KIND }, { "device", F_DEVICE },
	{ "baud", F_BAUD }, { "data_bits", F_DATABITS }, { "parity", F_PARITY },
	{ "stop_bits", F_STOPBITS }, { "flow", F_FLOW }, { "dtr", F_DTR },
	{ "rts", F_RTS }, { "peer", F_PEER }, { "follow", F_FOLLOW },
	{ "frame", F_FRAME }, { "qos", F_QOS }, { "enabled", F_ENABLED },
};

static const struct field *field_find(const char *name)
{
	for (size_t i = 0; i < NELEM(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

json_t *port_config_to_json(const struct port_config *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "kind", json_string(kind_names[c->kind]));
	json_object_set_new(o, "device", c->device[0] ? json_string(c->device) : json_null());
	json_object_set_new(o, "baud", json_integer(c->baud));
	json_object_set_new(o, "data_bits", json_integer(c->data_bits));
	json_object_set_new(o, "parity", json_string(parity_names[c->parity]));
	json_object_set_new(o, "stop_bits", json_integer(c->stop_bits));
	json_object_set_new(o, "flow", json_string(flow_names[c->flow]));
	json_object_set_new(o, "dtr", json_boolean(c->dtr));
	json_object_set_new(o, "rts", json_boolean(c->rts));
	json_object_set_new(o, "peer", c->peer[0] ? json_string(c->peer) : json_null());
	json_object_set_new(o, "follow", json_boolean(c->follow));
	json_object_set_new(o, "frame", frame_cfg_to_json(&c->frame));
	json_object_set_new(o, "qos", json_integer(c->qos));
	json_object_set_new(o, "enabled", json_boolean(c->enabled));
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

static int want_bool(json_t *v, const char *name, bool *out, char *err, size_t errlen)
{
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "%s must be true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int want_enum(json_t *v, const char *name, const char *const *names, size_t n,
		     int *out, char *err, size_t errlen)
{
	if (!json_is_string(v) || enum_parse(names, n, json_string_value(v), out) < 0) {
		size_t len = (size_t)snprintf(err, errlen, "%s must be one of", name);
		for (size_t i = 0; i < n && len < errlen; i++)
			len += (size_t)snprintf(err + len, errlen - len, "%s \"%s\"",
						i ? "," : "", names[i]);
		return -1;
	}
	return 0;
}

/* Set one field of c from v (v is never JSON null here). */
static int field_set(struct port_config *c, const struct field *f, json_t *v,
		     char *err, size_t errlen)
{
	json_int_t i;
	int e;

	switch (f->type) {
	case F_NAME:
		if (!json_is_string(v)) {
			snprintf(err, errlen, "name must be a string");
			return -1;
		}
		if (port_name_check(json_string_value(v), err, errlen) < 0)
			return -1;
		snprintf(c->name, sizeof(c->name), "%s", json_string_value(v));
		return 0;
	case F_KIND:
		if (want_enum(v, "kind", kind_names, NELEM(kind_names), &e, err, errlen) < 0)
			return -1;
		c->kind = (enum port_kind)e;
		return 0;
	case F_DEVICE:
		if (!json_is_string(v) || (json_string_value(v)[0] != '/' &&
		    strncmp(json_string_value(v), "rfc2217://", 10) != 0) ||
		    json_string_length(v) > PORT_DEVICE_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(err, errlen, "device must be an absolute path (or, for an rfc2217 "
				 "port, rfc2217://HOST:PORT) of at most %d bytes", PORT_DEVICE_MAX);
			return -1;
		}
		snprintf(c->device, sizeof(c->device), "%s", json_string_value(v));
		return 0;
	case F_BAUD:
		if (want_int(v, "baud", 1, 20000000, &i, err, errlen) < 0)
			return -1;
		c->baud = (uint32_t)i;
		return 0;
	case F_DATABITS:
		if (want_int(v, "data_bits", 5, 8, &i, err, errlen) < 0)
			return -1;
		c->data_bits = (int)i;
		return 0;
	case F_PARITY:
		if (want_enum(v, "parity", parity_names, NELEM(parity_names), &e, err, errlen) < 0)
			return -1;
		c->parity = (enum port_parity)e;
		return 0;
	case F_STOPBITS:
		if (want_int(v, "stop_bits", 1, 2, &i, err, errlen) < 0)
			return -1;
		c->stop_bits = (int)i;
		return 0;
	case F_FLOW:
		if (want_enum(v, "flow", flow_names, NELEM(flow_names), &e, err, errlen) < 0)
			return -1;
		c->flow = (enum port_flow)e;
		return 0;
	case F_DTR:
		return want_bool(v, "dtr", &c->dtr, err, errlen);
	case F_RTS:
		return want_bool(v, "rts", &c->rts, err, errlen);
	case F_PEER: {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		const char *slash = s ? strchr(s, '/') : NULL;
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
		snprintf(c->peer, sizeof(c->peer), "%s", s);
		return 0;
	}
	case F_FOLLOW:
		return want_bool(v, "follow", &c->follow, err, errlen);
	case F_FRAME:
		return frame_cfg_from_json(&c->frame, v, err, errlen);
	case F_QOS:
		if (want_int(v, "qos", 0, 1, &i, err, errlen) < 0)
			return -1;
		c->qos = (int)i;
		return 0;
	case F_ENABLED:
		return want_bool(v, "enabled", &c->enabled, err, errlen);
	}
	return -1;
}

/* Restore one field to its default (a merge-patch `null`). */
static void field_reset(struct port_config *c, const struct field *f)
{
	struct port_config d;

	port_config_defaults(&d);
	switch (f->type) {
	case F_NAME: case F_KIND: break;
	case F_DEVICE: c->device[0] = '\0'; break;
	case F_BAUD: c->baud = d.baud; break;
	case F_DATABITS: c->data_bits = d.data_bits; break;
	case F_PARITY: c->parity = d.parity; break;
	case F_STOPBITS: c->stop_bits = d.stop_bits; break;
	case F_FLOW: c->flow = d.flow; break;
	case F_DTR: c->dtr = d.dtr; break;
	case F_RTS: c->rts = d.rts; break;
	case F_PEER: c->peer[0] = '\0'; break;
	case F_FOLLOW: c->follow = d.follow; break;
	case F_FRAME: c->frame = d.frame; break;
	case F_QOS: c->qos = d.qos; break;
	case F_ENABLED: c->enabled = d.enabled; break;
	}
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
		const struct field *f = field_find(key);
		if (!f) {
			if (strcmp(key, "path") == 0 || strcmp(key, "state") == 0)
				continue;
			snprintf(err, errlen, "%.40s is not a port setting", key);
			return -1;
		}
		if (!create && (f->type == F_NAME || f->type == F_KIND)) {
			bool same = json_is_string(v) &&
				    strcmp(json_string_value(v), f->type == F_NAME ? c->name
					   : kind_names[c->kind]) == 0;
			if (!same) {
				snprintf(err, errlen, "%s cannot be changed once a port exists", key);
				return -1;
			}
			continue;
		}
		if (!create && f->type == F_FRAME && json_is_object(v)) {
			if (frame_patch(&n.frame, v, err, errlen) < 0)
				return -1;
			continue;
		}
		if (json_is_null(v)) {
			if (f->type == F_NAME || f->type == F_KIND) {
				snprintf(err, errlen, "%s must not be null", key);
				return -1;
			}
			field_reset(&n, f);
			continue;
		}
		if (field_set(&n, f, v, err, errlen) < 0)
			return -1;
	}
	if (cross_check(&n, self_id, err, errlen) < 0)
		return -1;
	*c = n;
	return 0;
}

bool port_config_equal(const struct port_config *a, const struct port_config *b)
{
	return strcmp(a->name, b->name) == 0 && a->kind == b->kind &&
	       strcmp(a->device, b->device) == 0 && a->baud == b->baud &&
	       a->data_bits == b->data_bits && a->parity == b->parity &&
	       a->stop_bits == b->stop_bits && a->flow == b->flow &&
	       a->dtr == b->dtr && a->rts == b->rts && strcmp(a->peer, b->peer) == 0 &&
	       a->follow == b->follow && a->frame.mode == b->frame.mode &&
	       a->frame.max == b->frame.max && a->frame.delim_len == b->frame.delim_len &&
	       memcmp(a->frame.delim, b->frame.delim, a->frame.delim_len) == 0 &&
	       a->frame.idle_ms == b->frame.idle_ms && a->qos == b->qos &&
	       a->enabled == b->enabled;
}
