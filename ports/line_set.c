#include "line_set.h"
#include "port_config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static void line_set_init(struct line_set *s)
{
	s->line = (struct line_settings){ STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL,
					  STATE_NULL };
	s->dtr = s->rts = STATE_NULL;
	s->break_ms = 0;
	s->cts = s->dsr = s->dcd = s->ri = STATE_NULL;
	s->lines_if_any = 0;
}

/* The boolean keys of a set payload and where they go. */
static int *bool_field(struct line_set *s, const char *k)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "dtr", offsetof(struct line_set, dtr) },
		{ "rts", offsetof(struct line_set, rts) },
		{ "cts", offsetof(struct line_set, cts) },
		{ "dsr", offsetof(struct line_set, dsr) },
		{ "dcd", offsetof(struct line_set, dcd) },
		{ "ri", offsetof(struct line_set, ri) },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i].key) == 0)
			return (int *)((char *)s + keys[i].off);
	return NULL;
}

static int int_in(json_t *v, long long lo, long long hi, long long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int line_set_parse(json_t *obj, struct line_set *out, char *err, size_t errlen)
{
	struct line_set s;
	const char *k;
	json_t *v;
	long long i;
	int *line;

	line_set_init(&s);
	if (!json_is_object(obj) || json_object_size(obj) == 0) {
		snprintf(err, errlen, "set must be a non-empty JSON object");
		return -1;
	}
	json_object_foreach(obj, k, v) {
		if (strcmp(k, "baud") == 0) {
			if (int_in(v, 1, 20000000, &i) < 0)
				goto bad;
			s.line.baud = i;
		} else if (strcmp(k, "data_bits") == 0) {
			if (int_in(v, 5, 8, &i) < 0)
				goto bad;
			s.line.data_bits = (int)i;
		} else if (strcmp(k, "stop_bits") == 0) {
			if (int_in(v, 1, 2, &i) < 0)
				goto bad;
			s.line.stop_bits = (int)i;
		} else if (strcmp(k, "parity") == 0) {
			enum port_parity p;
			if (!json_is_string(v) || port_parity_parse(json_string_value(v), &p) < 0)
				goto bad;
			s.line.parity = p;
		} else if (strcmp(k, "flow") == 0) {
			enum port_flow f;
			if (!json_is_string(v) || port_flow_parse(json_string_value(v), &f) < 0)
				goto bad;
			s.line.flow = f;
		} else if ((line = bool_field(&s, k))) {
			if (!json_is_boolean(v))
				goto bad;
			*line = json_is_true(v);
		} else if (strcmp(k, "break_ms") == 0) {
			if (int_in(v, 1, 10000, &i) < 0)
				goto bad;
			s.break_ms = (int)i;
		} else {
			snprintf(err, errlen, "%.40s is not something set can change", k);
			return -1;
		}
	}
	*out = s;
	return 0;
bad:
	snprintf(err, errlen, "%s has an invalid value for set", k);
	return -1;
}

void line_set_from_peer_state(json_t *st, struct line_set *out)
{
	json_t *v;

	line_set_init(out);
	out->lines_if_any = 1;
	if (!json_is_object(st) || !json_is_true(json_object_get(st, "open"))) {
		/* for safety: no peer, no application → unkey */
		out->dtr = out->rts = 0;
		return;
	}
	if (json_is_integer(v = json_object_get(st, "baud")) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= 20000000)
		out->line.baud = json_integer_value(v);
	if (json_is_integer(v = json_object_get(st, "data_bits")) &&
	    json_integer_value(v) >= 5 && json_integer_value(v) <= 8)
		out->line.data_bits = (int)json_integer_value(v);
	if (json_is_integer(v = json_object_get(st, "stop_bits")) &&
	    (json_integer_value(v) == 1 || json_integer_value(v) == 2))
		out->line.stop_bits = (int)json_integer_value(v);
	if (json_is_string(v = json_object_get(st, "parity"))) {
		enum port_parity p;
		if (port_parity_parse(json_string_value(v), &p) == 0)
			out->line.parity = p;
	}
	if (json_is_string(v = json_object_get(st, "flow"))) {
		enum port_flow f;
		if (port_flow_parse(json_string_value(v), &f) == 0)
			out->line.flow = f;
	}
	if (json_is_boolean(v = json_object_get(st, "dtr")))
		out->dtr = json_is_true(v);
	if (json_is_boolean(v = json_object_get(st, "rts")))
		out->rts = json_is_true(v);
}

void line_set_null_modem(json_t *st, struct line_set *out)
{
	json_t *v;

	line_set_init(out);
	if (!json_is_object(st)) {      /* the peer is gone: the cable is dead */
		out->cts = out->dsr = out->dcd = 0;
		return;
	}
	if (json_is_boolean(v = json_object_get(st, "rts")))
		out->cts = json_is_true(v);
	if (json_is_boolean(v = json_object_get(st, "dtr")))
		out->dsr = out->dcd = json_is_true(v);
}

bool line_set_has_outputs(const struct line_set *s)
{
	const struct line_settings *l = &s->line;

	return l->baud != STATE_NULL || l->data_bits != STATE_NULL || l->parity != STATE_NULL ||
	       l->stop_bits != STATE_NULL || l->flow != STATE_NULL || s->dtr != STATE_NULL ||
	       s->rts != STATE_NULL || s->break_ms != 0;
}

bool line_set_has_settings(const struct line_set *s)
{
	const struct line_settings *l = &s->line;

	return l->baud != STATE_NULL || l->data_bits != STATE_NULL || l->parity != STATE_NULL ||
	       l->stop_bits != STATE_NULL || l->flow != STATE_NULL;
}

bool line_set_has_inputs(const struct line_set *s)
{
	return s->cts != STATE_NULL || s->dsr != STATE_NULL || s->dcd != STATE_NULL ||
	       s->ri != STATE_NULL;
}

void line_set_merge(const struct line_set *s, struct line_settings *l)
{
	if (s->line.baud != STATE_NULL) l->baud = s->line.baud;
	if (s->line.data_bits != STATE_NULL) l->data_bits = s->line.data_bits;
	if (s->line.parity != STATE_NULL) l->parity = s->line.parity;
	if (s->line.stop_bits != STATE_NULL) l->stop_bits = s->line.stop_bits;
	if (s->line.flow != STATE_NULL) l->flow = s->line.flow;
}
