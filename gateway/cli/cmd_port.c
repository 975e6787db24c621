/* cmd_port — `mqttty port list|add|set|rm`: a client of a running gateway's
 * HTTP API (CONTRACT.md §1, §4). The transport is http_client.c; this file
 * turns the command line into API calls and their answers into lines.
 * Exit status: 0 done, 1 the gateway could not or would not do it, 2 usage. */
#include "cmds.h"
#include "http_client.h"

#include <jansson.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PFX "mqttty port"
#define DEFAULT_HTTP "127.0.0.1:8080"
#define TIMEOUT_MS 10000
#define MAX_ARGS 128

static const char usage_text[] =
	"usage: mqttty port list [--json]\n"
	"       mqttty port add NAME [key=value ...] [--json]\n"
	"       mqttty port set NAME key=value ... [--json]\n"
	"       mqttty port rm NAME\n"
	"Manages the ports of a running gateway (mqttty serve) through its HTTP API.\n"
	"  --http ADDR:PORT  the gateway's --http address (also http://… or https://…);\n"
	"                    default $MQTTTY_HTTP, else " DEFAULT_HTTP "\n"
	"  --tls             use https; --insecure also accepts a self-signed certificate\n"
	"  --json            print the API's JSON instead of a summary\n"
	"MQTTTY_TOKEN: an API token printed by `mqttty passwd`, once the gateway has a password.\n"
	"Values: 123 a number, true/false, null (back to the default), {...} or [...] JSON,\n"
	"anything else a string. E.g.\n"
	"  mqttty port add radio1 qos=0 frame='{\"mode\":\"delim\",\"delim\":\";\"}'\n"
	"  mqttty port add gps kind=device device=/dev/ttyUSB0 baud=4800\n"
	"  mqttty port set radio1 frame=null\n";

/* One invocation: what the command line and environment said. */
struct port_cli {
	char addr[256];       /* to connect to: host name or IP literal */
	int port;
	char host_hdr[300];   /* Host header, also how the gateway is named in messages */
	bool tls, insecure, json, help;
	const char *token;    /* borrowed from the environment, or NULL */
	const char *verb;     /* borrowed from argv, like the positionals */
	const char *pos[MAX_ARGS];
	int npos;
};

/* ---- the command line ------------------------------------------------------ */

static int parse_port_num(const char *s, int *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

/* ADDR:PORT, [V6]:PORT, or http(s)://… with an optional port and "/". A
 * wildcard bind address (what `serve --http 0.0.0.0:P` takes) is reached
 * on loopback. */
static int cli_set_addr(struct port_cli *c, const char *v, char *err, size_t errlen)
{
	const char *s = v, *colon;
	char hp[256], host[256];
	bool url = false;
	size_t n;

	if (strcmp(v, "off") == 0) {
		snprintf(err, errlen, "\"off\" means the gateway serves no API: give the "
			 "ADDR:PORT of one that does");
		return -1;
	}
	if (strncasecmp(s, "https://", 8) == 0) {
		c->tls = url = true;
		s += 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		url = true;
		s += 7;
	}
	n = strcspn(s, "/");
	if (n >= sizeof(hp) || (s[n] && strcmp(s + n, "/") != 0))
		goto bad;
	memcpy(hp, s, n);
	hp[n] = '\0';
	if (hp[0] == '[') {
		char *rb = strchr(hp, ']');
		if (!rb || rb == hp + 1 || (rb[1] && rb[1] != ':'))
			goto bad;
		*rb = '\0';
		memcpy(host, hp + 1, (size_t)(rb - hp));   /* with the NUL at rb */
		colon = rb[1] ? rb + 1 : NULL;
	} else {
		colon = strchr(hp, ':');
		if (colon && strchr(colon + 1, ':'))
			goto bad;   /* an IPv6 address needs its brackets */
		snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - hp) : (int)n, hp);
	}
	if (!host[0])
		goto bad;
	if (colon ? parse_port_num(colon + 1, &c->port) < 0 : !url)
		goto bad;
	if (!colon)
		c->port = c->tls ? 443 : 80;
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "::1");
	snprintf(c->addr, sizeof(c->addr), "%s", host);
	snprintf(c->host_hdr, sizeof(c->host_hdr), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
		 host, c->port);
	return 0;
bad:
	snprintf(err, errlen, "\"%.100s\" is not the gateway's address: give ADDR:PORT "
		 "(e.g. " DEFAULT_HTTP ") or http(s)://ADDR:PORT", v);
	return -1;
}

/* Options may come before or after the verb; the rest are positionals. */
static int cli_parse(struct port_cli *c, int argc, char **argv, char *err, size_t errlen)
{
	const char *http = NULL, *env = getenv("MQTTTY_HTTP");
	bool tls = false, opts_done = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts_done || a[0] != '-' || !a[1]) {
			if (c->npos == MAX_ARGS) {
				snprintf(err, errlen, "too many arguments");
				return -1;
			}
			c->pos[c->npos++] = a;
		} else if (strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			c->help = true;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--tls") == 0) {
			tls = true;
		} else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
			c->insecure = true;
		} else if (strncmp(a, "--http=", 7) == 0) {
			http = a + 7;
		} else if (strcmp(a, "--http") == 0) {
			if (i + 1 == argc) {
				snprintf(err, errlen, "--http needs ADDR:PORT");
				return -1;
			}
			http = argv[++i];
		} else {
			snprintf(err, errlen, "unknown option %.100s", a);
			return -1;
		}
	}
	if (c->help)
		return 0;
	if (!http && env && env[0] && cli_set_addr(c, env, err, errlen) < 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (from MQTTTY_HTTP)");
		return -1;
	}
	if (http || !env || !env[0])
		if (cli_set_addr(c, http ? http : DEFAULT_HTTP, err, errlen) < 0)
			return -1;
	c->tls = c->tls || tls;
	c->token = getenv("MQTTTY_TOKEN");
	if (c->token && !c->token[0])
		c->token = NULL;
	c->verb = c->npos ? c->pos[0] : NULL;
	return 0;
}

/* ---- talking to the gateway --------------------------------------------- */

/* Say once, on stderr, why a call got no usable answer. */
static void say_no_answer(const struct port_cli *c, int rc, const char *why)
{
	const char *a = c->host_hdr;

	if (rc == HTTP_CLIENT_NOCONN)
		fprintf(stderr, PFX ": no gateway answers on %s (is mqttty serve running? "
			"set --http or MQTTTY_HTTP)\n", a);
	else if (rc == HTTP_CLIENT_TIMEOUT)
		fprintf(stderr, PFX ": no answer from %s within %d s (is it an mqttty gateway? "
			"set --http or MQTTTY_HTTP)\n", a, TIMEOUT_MS / 1000);
	else if (rc == HTTP_CLIENT_TLS)
		fprintf(stderr, PFX ": TLS with %s failed: %s (a self-signed certificate needs "
			"--insecure; a plain http gateway needs no --tls)\n", a, why);
	else if (rc == HTTP_CLIENT_HUNGUP)
		fprintf(stderr, PFX ": %s closed the connection without an answer: %s%s\n", a,
			why, c->tls ? "" : " (a gateway serving https needs --tls)");
	else
		fprintf(stderr, PFX ": %s\n", why);
}

static void say_http_error(const struct port_cli *c, int status, json_t *body)
{
	const char *msg = json_string_value(json_object_get(body, "error"));

	if (status == 401)
		fprintf(stderr, PFX ": the gateway on %s needs a login (HTTP 401): %s\n",
			c->host_hdr, c->token ? "it did not accept MQTTTY_TOKEN; set it to a "
			"token printed by `mqttty passwd`" : "set MQTTTY_TOKEN to a token "
			"printed by `mqttty passwd`");
	else if (msg)
		fprintf(stderr, PFX ": %s (HTTP %d)\n", msg, status);
	else
		fprintf(stderr, PFX ": %s answered HTTP %d without an error message (is it "
			"an mqttty gateway?)\n", c->host_hdr, status);
}

/* One API call. On a 2xx answer returns 0 and *out is its JSON (caller
 * decrefs; NULL when the body is empty); otherwise says why and returns -1. */
static int api_call(const struct port_cli *c, const char *method, const char *path,
		    json_t *body, json_t **out)
{
	struct http_client_req rq = {
		.addr = c->addr, .port = c->port, .tls = c->tls, .insecure = c->insecure,
		.method = method, .path = path, .host_hdr = c->host_hdr, .token = c->token,
		.timeout_ms = TIMEOUT_MS,
	};
	struct http_client_resp rs;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, why[256];
	json_t *j = NULL;
	int rc, ret = -1;

	*out = NULL;
	if (body && !text) {
		fprintf(stderr, PFX ": out of memory\n");
		return -1;
	}
	rq.body = text;
	rq.body_len = text ? strlen(text) : 0;
	rc = http_client_request(&rq, &rs, why, sizeof(why));
	free(text);
	if (rc != HTTP_CLIENT_OK) {
		say_no_answer(c, rc, why);
		goto out;
	}
	if (rs.len && !(j = json_loadb(rs.body, rs.len, JSON_ALLOW_NUL, NULL))) {
		fprintf(stderr, PFX ": %s answered HTTP %d with something that is not JSON "
			"(is it an mqttty gateway?)\n", c->host_hdr, rs.status);
		goto out;
	}
	if (rs.status < 200 || rs.status > 299) {
		say_http_error(c, rs.status, j);
		json_decref(j);
		goto out;
	}
	*out = j;
	ret = 0;
out:
	http_client_resp_free(&rs);
	return ret;
}

/* /api/v1/ports/NAME with NAME percent-encoded (the API decodes it). */
static void port_path(const char *name, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "/api/v1/ports/");

	for (const unsigned char *p = (const unsigned char *)name; *p && n + 4 < len; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, len - n, "%%%02X", *p);
	}
	out[n] = '\0';
}

/* ---- printing ------------------------------------------------------------- */

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}

/* "9600 8N1": baud, data bits, parity's initial, stop bits; "-" for each
 * value the port cannot know (a pty has no data bits or parity). */
static void line_text(json_t *o, char *out, size_t len)
{
	json_t *baud = json_object_get(o, "baud"), *bits = json_object_get(o, "data_bits");
	json_t *stop = json_object_get(o, "stop_bits");
	const char *par = json_string_value(json_object_get(o, "parity"));
	char b[24] = "-", d[8] = "-", s[8] = "-";

	if (!json_is_integer(baud) && !json_is_integer(bits) && !par && !json_is_integer(stop)) {
		snprintf(out, len, "-");
		return;
	}
	if (json_is_integer(baud))
		snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, json_integer_value(baud));
	if (json_is_integer(bits))
		snprintf(d, sizeof(d), "%" JSON_INTEGER_FORMAT, json_integer_value(bits));
	if (json_is_integer(stop))
		snprintf(s, sizeof(s), "%" JSON_INTEGER_FORMAT, json_integer_value(stop));
	snprintf(out, len, "%s %s%c%s", b, d, par && par[0] ? toupper((unsigned char)par[0]) : '-',
		 s);
}

static void count_text(json_t *v, char *out, size_t len)
{
	if (json_is_integer(v))
		snprintf(out, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(out, len, "-");
}

enum { C_NAME, C_KIND, C_PATH, C_OPEN, C_LINE, C_FRAME, C_TX, C_RX, C_DROPPED, NCOLS };

static const struct column {
	const char *title;
	bool right;   /* numbers line up on the right */
} columns[NCOLS] = {
	{ "NAME", false }, { "KIND", false }, { "PATH", false }, { "OPEN", false },
	{ "LINE", false }, { "FRAME", false }, { "TX", true }, { "RX", true },
	{ "DROPPED", true },
};

struct row {
	char cell[NCOLS][260];
};

static void row_fill(struct row *r, json_t *p)
{
	json_t *st = json_object_get(p, "state");
	bool device = strcmp(str_or(p, "kind", ""), "device") == 0;

	snprintf(r->cell[C_NAME], sizeof(r->cell[0]), "%s", str_or(p, "name", "?"));
	snprintf(r->cell[C_KIND], sizeof(r->cell[0]), "%s", str_or(p, "kind", "-"));
	snprintf(r->cell[C_PATH], sizeof(r->cell[0]), "%s",
		 str_or(p, device ? "device" : "path", "-"));
	snprintf(r->cell[C_OPEN], sizeof(r->cell[0]), "%s",
		 json_is_true(json_object_get(st, "open")) ? "yes" : "no");
	line_text(st, r->cell[C_LINE], sizeof(r->cell[0]));
	snprintf(r->cell[C_FRAME], sizeof(r->cell[0]), "%s",
		 str_or(json_object_get(p, "frame"), "mode", "-"));
	count_text(json_object_get(st, "tx_bytes"), r->cell[C_TX], sizeof(r->cell[0]));
	count_text(json_object_get(st, "rx_bytes"), r->cell[C_RX], sizeof(r->cell[0]));
	count_text(json_object_get(st, "dropped"), r->cell[C_DROPPED], sizeof(r->cell[0]));
}

static void row_print(const struct row *r, const int *width)
{
	for (int i = 0; i < NCOLS; i++) {
		bool last = i == NCOLS - 1;
		if (columns[i].right)
			printf("%*s%s", width[i], r->cell[i], last ? "\n" : "  ");
		else if (last)
			printf("%s\n", r->cell[i]);
		else
			printf("%-*s  ", width[i], r->cell[i]);
	}
}

static int print_table(json_t *ports)
{
	size_t n = json_array_size(ports);
	struct row *rows = calloc(n + 1, sizeof(*rows));   /* rows[0]: the titles */
	int width[NCOLS] = { 0 };

	if (!rows) {
		fprintf(stderr, PFX ": out of memory\n");
		return 1;
	}
	for (int i = 0; i < NCOLS; i++)
		snprintf(rows[0].cell[i], sizeof(rows[0].cell[i]), "%s", columns[i].title);
	for (size_t k = 0; k < n; k++)
		row_fill(&rows[k + 1], json_array_get(ports, k));
	for (size_t k = 0; k <= n; k++)
		for (int i = 0; i < NCOLS; i++) {
			int w = (int)strlen(rows[k].cell[i]);
			width[i] = w > width[i] ? w : width[i];
		}
	for (size_t k = 0; k <= n; k++)
		row_print(&rows[k], width);
	free(rows);
	return 0;
}

/* The delimiter's code points U+0000..U+00FF (UTF-8 in JSON) as bytes,
 * printable ones as they are, the rest as \xNN. */
static void delim_text(json_t *delim, char *out, size_t len)
{
	const unsigned char *p, *end;
	size_t n = 0;

	out[0] = '\0';
	if (!json_is_string(delim))
		return;
	p = (const unsigned char *)json_string_value(delim);
	end = p + json_string_length(delim);   /* U+0000 counts too */
	for (; p < end && n + 5 < len; p++) {
		unsigned cp = *p;
		if ((cp & 0xE0) == 0xC0 && p + 1 < end) {
			cp = ((cp & 0x1F) << 6) | (p[1] & 0x3F);
			p++;
		}
		if (cp >= 0x20 && cp < 0x7F && cp != '"' && cp != '\\')
			out[n++] = (char)cp;
		else
			n += (size_t)snprintf(out + n, len - n, "\\x%02X", cp & 0xFF);
	}
	out[n] = '\0';
}

static void frame_text(json_t *f, char *out, size_t len)
{
	const char *mode = str_or(f, "mode", "?");
	json_t *idle = json_object_get(f, "idle_ms"), *max = json_object_get(f, "max");
	char d[40];
	size_t n;

	if (strcmp(mode, "delim") == 0) {
		delim_text(json_object_get(f, "delim"), d, sizeof(d));
		n = (size_t)snprintf(out, len, "frame delim \"%s\"", d);
	} else if (strcmp(mode, "idle") == 0 && json_is_integer(idle)) {
		n = (size_t)snprintf(out, len, "frame idle %" JSON_INTEGER_FORMAT " ms",
				     json_integer_value(idle));
	} else {
		n = (size_t)snprintf(out, len, "frame %s", mode);
	}
	if (json_is_integer(max) && json_integer_value(max) != 4096 && n < len)
		snprintf(out + n, len - n, " max %" JSON_INTEGER_FORMAT, json_integer_value(max));
}

/* "NAME: kind pty, path /run/mqttty/NAME, open no, frame raw, qos 1" */
static void print_summary(json_t *p)
{
	char frame[128], line[64];
	const char *kind = str_or(p, "kind", "?");

	frame_text(json_object_get(p, "frame"), frame, sizeof(frame));
	printf("%s: kind %s", str_or(p, "name", "?"), kind);
	if (strcmp(kind, "device") == 0) {
		line_text(p, line, sizeof(line));   /* the configured line settings */
		printf(", device %s, %s, flow %s", str_or(p, "device", "-"), line,
		       str_or(p, "flow", "-"));
	} else {
		printf(", path %s", str_or(p, "path", "-"));
	}
	printf(", open %s, %s, qos %" JSON_INTEGER_FORMAT,
	       json_is_true(json_object_get(json_object_get(p, "state"), "open")) ? "yes" : "no",
	       frame, json_integer_value(json_object_get(p, "qos")));
	if (json_is_string(json_object_get(p, "peer")))
		printf(", peer %s%s", str_or(p, "peer", ""),
		       json_is_true(json_object_get(p, "follow")) ? " (follow)" : "");
	if (json_is_false(json_object_get(p, "enabled")))
		printf(", disabled");
	printf("\n");
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));

	if (s)
		printf("%s\n", s);
	free(s);
}

/* ---- key=value ------------------------------------------------------------ */

static bool is_integer(const char *s)
{
	const char *p = s + (*s == '-');
	char *end;

	if (!isdigit((unsigned char)*p) || p[strspn(p, "0123456789")])
		return false;
	errno = 0;
	(void)strtoll(s, &end, 10);
	return errno == 0;
}

/* The gateway's field table (GET /api/v1/schema, new reference), or NULL
 * when it gives none (an older gateway): then values are typed by their
 * look. Quiet: the call that follows says what is wrong with the gateway. */
static json_t *fetch_schema(const struct port_cli *c)
{
	struct http_client_req rq = {
		.addr = c->addr, .port = c->port, .tls = c->tls, .insecure = c->insecure,
		.method = "GET", .path = "/api/v1/schema", .host_hdr = c->host_hdr,
		.token = c->token, .timeout_ms = TIMEOUT_MS,
	};
	struct http_client_resp rs;
	char why[256];
	json_t *j = NULL;

	if (http_client_request(&rq, &rs, why, sizeof(why)) != HTTP_CLIENT_OK)
		return NULL;
	if (rs.status == 200)
		j = json_loadb(rs.body, rs.len, 0, NULL);
	http_client_resp_free(&rs);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* A value typed on the command line (new reference), or NULL with a
 * sentence in err. type is the field's type from the schema ("string",
 * "integer", "boolean", "enum", "object") or NULL: then JSON objects,
 * booleans, null and integers are recognised by their look. */
static json_t *kv_value(const char *key, const char *v, const char *type, char *err,
			size_t errlen)
{
	json_error_t e;
	json_t *j;

	if (strcmp(v, "null") == 0)
		return json_null();
	if (type && (strcmp(type, "string") == 0 || strcmp(type, "enum") == 0)) {
		if (!(j = json_string(v)))
			snprintf(err, errlen, "%s: the value is not valid UTF-8", key);
		return j;
	}
	if (type && strcmp(type, "integer") == 0 && !is_integer(v)) {
		snprintf(err, errlen, "%.60s must be an integer (e.g. %s=9600), not \"%.60s\"",
			 key, key, v);
		return NULL;
	}
	if (type && strcmp(type, "boolean") == 0 && strcmp(v, "true") != 0 &&
	    strcmp(v, "false") != 0) {
		snprintf(err, errlen, "%.60s must be true or false, not \"%.60s\"", key, v);
		return NULL;
	}

	if (v[0] == '{' || v[0] == '[') {
		if (!(j = json_loads(v, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e)))
			snprintf(err, errlen, "%.60s: the value is not valid JSON: %.120s (column %d)",
				 key, e.text, e.column);
		return j;
	}
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return json_boolean(v[0] == 't');
	if (is_integer(v))
		return json_integer(strtoll(v, NULL, 10));
	if (!(j = json_string(v)))
		snprintf(err, errlen, "%s: the value is not valid UTF-8", key);
	return j;
}

/* The settings object from key=value arguments (new reference), or NULL
 * with a sentence in err. */
static json_t *kv_object(const char *const *args, int n, json_t *schema, char *err,
			 size_t errlen)
{
	json_t *o = json_object(), *v;
	char key[128];

	for (int i = 0; i < n; i++) {
		const char *eq = strchr(args[i], '=');
		if (!eq || eq == args[i] || (size_t)(eq - args[i]) >= sizeof(key)) {
			snprintf(err, errlen, "\"%.100s\" is not key=value (e.g. qos=0)", args[i]);
			goto bad;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - args[i]), args[i]);
		if (!(v = kv_value(key, eq + 1,
				   json_string_value(json_object_get(json_object_get(schema, key),
								     "type")),
				   err, errlen)))
			goto bad;
		if (json_object_set_new(o, key, v) < 0) {   /* it took v either way */
			snprintf(err, errlen, "the key \"%.100s\" is not valid UTF-8", key);
			goto bad;
		}
	}
	return o;
bad:
	json_decref(o);
	return NULL;
}

/* ---- the verbs ------------------------------------------------------------ */

static int verb_list(struct port_cli *c)
{
	json_t *j;
	int rc = 1;

	if (api_call(c, "GET", "/api/v1/ports", NULL, &j) < 0)
		return 1;
	if (!json_is_array(j))
		fprintf(stderr, PFX ": %s did not answer a list of ports (is it an mqttty "
			"gateway?)\n", c->host_hdr);
	else if (c->json) {
		print_json(j);
		rc = 0;
	} else {
		rc = print_table(j);
	}
	json_decref(j);
	return rc;
}

/* add and set: send the settings, print the port the gateway answered. */
static int send_settings(struct port_cli *c, const char *method, const char *path,
			 json_t *settings)
{
	json_t *j;

	if (api_call(c, method, path, settings, &j) < 0)
		return 1;
	if (!json_is_object(j)) {
		fprintf(stderr, PFX ": %s answered no port (is it an mqttty gateway?)\n",
			c->host_hdr);
		json_decref(j);
		return 1;
	}
	if (c->json)
		print_json(j);
	else
		print_summary(j);
	json_decref(j);
	return 0;
}

static int verb_add(struct port_cli *c)
{
	char err[300];
	json_t *schema = fetch_schema(c);
	json_t *o = kv_object(c->pos + 2, c->npos - 2, schema, err, sizeof(err));
	json_t *name = json_string(c->pos[1]);
	int rc = 2;

	if (!o)
		fprintf(stderr, PFX " add: %s\n", err);
	else if (!name)
		fprintf(stderr, PFX " add: NAME is not valid UTF-8\n");
	else if (json_object_set(o, "name", name) < 0)    /* NAME wins over name= */
		fprintf(stderr, PFX ": out of memory\n");
	else
		rc = send_settings(c, "POST", "/api/v1/ports", o);
	json_decref(name);
	json_decref(o);
	json_decref(schema);
	return rc;
}

static int verb_set(struct port_cli *c)
{
	char err[300], path[400];
	json_t *schema = fetch_schema(c);
	json_t *o = kv_object(c->pos + 2, c->npos - 2, schema, err, sizeof(err));
	int rc;

	json_decref(schema);
	if (!o) {
		fprintf(stderr, PFX " set: %s\n", err);
		return 2;
	}
	port_path(c->pos[1], path, sizeof(path));
	rc = send_settings(c, "PATCH", path, o);
	json_decref(o);
	return rc;
}

static int verb_rm(struct port_cli *c)
{
	char path[400];
	json_t *j;

	port_path(c->pos[1], path, sizeof(path));
	if (api_call(c, "DELETE", path, NULL, &j) < 0)
		return 1;
	json_decref(j);
	return 0;
}

/* Commands are data: name, positionals allowed (verb included), runner. */
static const struct verb {
	const char *name;
	int min_pos, max_pos;
	const char *need;     /* said when there are too few */
	int (*run)(struct port_cli *c);
} verbs[] = {
	{ "list", 1, 1, NULL, verb_list },
	{ "add", 2, MAX_ARGS, "NAME is missing", verb_add },
	{ "set", 3, MAX_ARGS, "give NAME and at least one key=value", verb_set },
	{ "rm", 2, 2, "NAME is missing", verb_rm },
};

int cmd_port(int argc, char **argv)
{
	struct port_cli c;
	char err[300];
	const struct verb *v = NULL;

	memset(&c, 0, sizeof(c));
	if (cli_parse(&c, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, PFX ": %s (see mqttty port --help)\n", err);
		return 2;
	}
	if (c.help) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!c.verb) {
		fprintf(stderr, PFX ": say what to do: list, add, set or rm "
			"(see mqttty port --help)\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(c.verb, verbs[i].name) == 0)
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, PFX ": unknown command \"%.100s\": use list, add, set or rm\n",
			c.verb);
		return 2;
	}
	if (c.npos < v->min_pos) {
		fprintf(stderr, PFX " %s: %s (see mqttty port --help)\n", v->name,
			v->need);
		return 2;
	}
	if (c.npos > v->max_pos) {
		fprintf(stderr, PFX " %s: unexpected argument \"%.100s\"\n", v->name,
			c.pos[v->max_pos]);
		return 2;
	}
	return v->run(&c);
}
