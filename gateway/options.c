/* options — the serve option table, environment and defaults. */
#include "options.h"
#include "port_config.h"
#include "topic.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { O_BROKER = 256, O_CA, O_CERT, O_KEY, O_ID, O_PREFIX, O_DB, O_LINKDIR,
       O_GROUP, O_HTTP, O_TLSCERT, O_TLSKEY, O_PORT, O_LOGLEVEL, O_RXHOLD, O_HA, O_HAPREFIX,
       O_METRICSTOKEN, O_HELP, O_VERSION };

struct opt_def {
	const char *name;       /* long option; env is MQTTTY_ + upper(name) */
	int id;
	size_t off;             /* offset of the char * in struct options */
	const char *arg, *help;    /* arg NULL: a flag (no value; env 1/0) */
};

#define OFF(f) offsetof(struct options, f)
static const struct opt_def defs[] = {
	{ "broker", O_BROKER, OFF(broker), "URI", "mqtt://[user:pass@]host[:port] or mqtts://… (default mqtt://127.0.0.1:1883)" },
	{ "ca-file", O_CA, OFF(ca_file), "FILE", "CA certificate(s) for TLS to the broker" },
	{ "cert", O_CERT, OFF(cert), "FILE", "client certificate for TLS to the broker" },
	{ "key", O_KEY, OFF(key), "FILE", "client key for TLS to the broker" },
	{ "id", O_ID, OFF(id), "ID", "gateway id, one topic level (default: short host name)" },
	{ "prefix", O_PREFIX, OFF(prefix), "P", "first topic level(s) (default mqttty)" },
	{ "db", O_DB, OFF(db), "PATH", "SQLite file with ports and credentials" },
	{ "link-dir", O_LINKDIR, OFF(link_dir), "DIR", "where port links LINK_DIR/NAME are made" },
	{ "group", O_GROUP, OFF(group), "G", "group of the pty slaves (mode 0660)" },
	{ "http", O_HTTP, OFF(http), "ADDR:PORT", "dashboard + JSON API, or off (default 127.0.0.1:8080)" },
	{ "tls-cert", O_TLSCERT, OFF(tls_cert), "FILE", "serve the dashboard over HTTPS" },
	{ "tls-key", O_TLSKEY, OFF(tls_key), "FILE", "key for --tls-cert" },
	{ "port", O_PORT, 0, "NAME", "create pty port NAME if it does not exist (repeatable)" },
	{ "log-level", O_LOGLEVEL, OFF(log_level), "L", "error, warn, info (default) or debug" },
	{ "rx-hold", O_RXHOLD, OFF(rx_hold), "SECONDS", "resume the MQTT session (QoS 1 rx kept by the broker) after an absence of at most this long; 0 = always clean (default 10)" },
	{ "ha-discovery", O_HA, OFF(ha_discovery), NULL, "announce the ports to Home Assistant (MQTT discovery)" },
	{ "ha-prefix", O_HAPREFIX, OFF(ha_prefix), "P", "Home Assistant's discovery prefix (default homeassistant)" },
	{ "metrics-token", O_METRICSTOKEN, OFF(metrics_token), "TOKEN", "a Bearer token that may read GET /metrics (scrapers)" },
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

void options_usage(FILE *f)
{
	fprintf(f, "usage: mqttty [serve] [options]\n"
		   "       mqttty port list|add|set|rm ...\n"
		   "       mqttty passwd [--db PATH]\n"
		   "       mqttty --help | --version\n\nserve options (also MQTTTY_<OPTION> in the environment):\n");
	for (size_t i = 0; i < NDEFS; i++)
		fprintf(f, "  --%-13s %-10s %s\n", defs[i].name, defs[i].arg ? defs[i].arg : "",
			defs[i].help);
}

static char **field(struct options *o, const struct opt_def *d)
{
	return (char **)((char *)o + d->off);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
}

static int add_port(struct options *o, const char *name)
{
	char **p = realloc(o->ports, (o->nports + 1) * sizeof(*p));

	if (!p)
		return -1;
	o->ports = p;
	o->ports[o->nports++] = strdup(name);
	return 0;
}

static void clear_ports(struct options *o)
{
	for (size_t i = 0; i < o->nports; i++)
		free(o->ports[i]);
	free(o->ports);
	o->ports = NULL;
	o->nports = 0;
}

/* MQTTTY_<NAME>: the command line parsed after this overrides. */
static void read_env(struct options *o)
{
	for (size_t i = 0; i < NDEFS; i++) {
		char env[64] = "MQTTTY_";
		size_t n = strlen(env);
		for (const char *s = defs[i].name; *s && n < sizeof(env) - 1; s++)
			env[n++] = *s == '-' ? '_' : (char)(*s - 32 * (*s >= 'a' && *s <= 'z'));
		env[n] = '\0';
		const char *v = getenv(env);
		if (!v)
			continue;
		if (defs[i].id == O_PORT) {
			char *copy = strdup(v), *save = NULL;
			for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
				add_port(o, t);
			free(copy);
		} else {
			set_str(field(o, &defs[i]), v);
		}
	}
}

char *options_default_db(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (geteuid() == 0 && !x)
		return strdup("/var/lib/mqttty/mqttty.db");
	if (x && *x)
		return asprintf(&p, "%s/mqttty/mqttty.db", x) < 0 ? NULL : p;
	if (home && *home)
		return asprintf(&p, "%s/.local/state/mqttty/mqttty.db", home) < 0 ? NULL : p;
	return NULL;
}

char *options_default_link_dir(void)
{
	const char *r = getenv("RUNTIME_DIRECTORY"), *x = getenv("XDG_RUNTIME_DIR");
	char *p = NULL;

	if (r && *r) {
		/* systemd may list several, separated by ':' */
		return strndup(r, strcspn(r, ":"));
	}
	if (x && *x)
		return asprintf(&p, "%s/mqttty", x) < 0 ? NULL : p;
	if (geteuid() == 0) {
#ifdef __APPLE__
		return strdup("/var/run/mqttty");
#else
		return strdup("/run/mqttty");
#endif
	}
	return NULL;
}

static char *default_id(void)
{
	char host[256] = "";
	size_t n;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		strcpy(host, "mqttty");
	host[strcspn(host, ".")] = '\0';
	n = strlen(host);
	if (n > 64)
		host[64] = '\0';
	for (char *s = host; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			*s = '_';
	return strdup(host);
}

static int parse_http(struct options *o, char *err, size_t errlen)
{
	const char *v = o->http, *colon;
	char *end;
	long port;

	if (strcmp(v, "off") == 0) {
		o->http_off = true;
		return 0;
	}
	colon = strrchr(v, ':');
	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(o->http_host))
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		goto bad;
	if (v[0] == '[') {      /* [::1]:8080 */
		if (colon[-1] != ']')
			goto bad;
		memcpy(o->http_host, v + 1, (size_t)(colon - v - 2));
		o->http_host[colon - v - 2] = '\0';
	} else {
		memcpy(o->http_host, v, (size_t)(colon - v));
		o->http_host[colon - v] = '\0';
	}
	o->http_port = (int)port;
	return 0;
bad:
	snprintf(err, errlen, "--http \"%.100s\" must be ADDR:PORT (e.g. 127.0.0.1:8080) or off", v);
	return -1;
}

/* --ha-discovery (a flag; MQTTTY_HA_DISCOVERY=1/0) and --ha-prefix. */
static int finish_ha(struct options *o, char *err, size_t errlen)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off", "" };
	const char *v = o->ha_discovery ? o->ha_discovery : "0";
	char e[256];
	bool known = false;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			known = o->ha = true;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			known = true;
	if (!known) {
		snprintf(err, errlen, "MQTTTY_HA_DISCOVERY \"%.20s\" must be 1 or 0", v);
		return -1;
	}
	if (!o->ha_prefix)
		o->ha_prefix = strdup("homeassistant");
	if (topic_prefix_check(o->ha_prefix, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "--ha-prefix: %s", e);
		return -1;
	}
	return 0;
}

/* Check and derive; OPT_BAD for malformed values, OPT_FAIL for defaults
 * that cannot be had. */
static int finish(struct options *o, char *err, size_t errlen)
{
	char e[256];

	if (!o->broker) o->broker = strdup("mqtt://127.0.0.1:1883");
	if (!o->prefix) o->prefix = strdup("mqttty");
	if (!o->http) o->http = strdup("127.0.0.1:8080");
	if (!o->log_level) o->log_level = strdup("info");
	if (!o->rx_hold) o->rx_hold = strdup("10");
	if (!o->broker || !o->prefix || !o->http || !o->log_level || !o->rx_hold) {
		snprintf(err, errlen, "out of memory");
		return OPT_FAIL;
	}
	if (!o->id) o->id = default_id();
	if (broker_uri_parse(o->broker, &o->uri, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "--broker: %s", e);
		return OPT_BAD;
	}
	if (gateway_id_check(o->id, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "--id: %s", e);
		return OPT_BAD;
	}
	if (topic_prefix_check(o->prefix, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "--prefix: %s", e);
		return OPT_BAD;
	}
	{
		char *end;
		unsigned long v;
		errno = 0;
		v = strtoul(o->rx_hold, &end, 10);
		if (!*o->rx_hold || *end || o->rx_hold[0] == '-' || errno || v > 86400) {
			snprintf(err, errlen, "--rx-hold \"%.40s\" must be a number of seconds from 0 "
				 "to 86400", o->rx_hold);
			return OPT_BAD;
		}
		o->rx_hold_s = (unsigned)v;
	}
	if (log_level_parse(o->log_level, &o->level) < 0) {
		snprintf(err, errlen, "--log-level \"%.40s\" must be error, warn, info or debug",
			 o->log_level);
		return OPT_BAD;
	}
	for (size_t i = 0; i < o->nports; i++)
		if (port_name_check(o->ports[i], e, sizeof(e)) < 0) {
			snprintf(err, errlen, "--port: %s", e);
			return OPT_BAD;
		}
	if (parse_http(o, err, errlen) < 0)
		return OPT_BAD;
	if (finish_ha(o, err, errlen) < 0)
		return OPT_BAD;
	if (o->metrics_token && !o->metrics_token[0]) {
		snprintf(err, errlen, "--metrics-token must not be empty");
		return OPT_BAD;
	}
	if (!!o->tls_cert != !!o->tls_key) {
		snprintf(err, errlen, "--tls-cert and --tls-key must be given together");
		return OPT_BAD;
	}
	if (!!o->cert != !!o->key) {
		snprintf(err, errlen, "--cert and --key must be given together");
		return OPT_BAD;
	}
	o->gid = getegid();
	if (o->group) {
		struct group *g = getgrnam(o->group);
		char *end;
		long n = strtol(o->group, &end, 10);
		if (g)
			o->gid = g->gr_gid;
		else if (*o->group && !*end && n >= 0)
			o->gid = (gid_t)n;
		else {
			snprintf(err, errlen, "--group \"%.64s\" is not a known group", o->group);
			return OPT_BAD;
		}
	}
	if (!o->db && !(o->db = options_default_db())) {
		snprintf(err, errlen, "no default database path: set --db, HOME or XDG_STATE_HOME");
		return OPT_FAIL;
	}
	if (!o->link_dir && !(o->link_dir = options_default_link_dir())) {
		snprintf(err, errlen, "no usable link directory: set --link-dir, RUNTIME_DIRECTORY "
			 "or XDG_RUNTIME_DIR");
		return OPT_FAIL;
	}
	return OPT_OK;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	struct option lo[NDEFS + 3];
	bool cli_ports = false;
	int c;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < NDEFS; i++)
		lo[i] = (struct option){ defs[i].name, defs[i].arg ? required_argument : no_argument,
					 NULL, defs[i].id };
	lo[NDEFS] = (struct option){ "help", no_argument, NULL, O_HELP };
	lo[NDEFS + 1] = (struct option){ "version", no_argument, NULL, O_VERSION };
	lo[NDEFS + 2] = (struct option){ 0 };
	read_env(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == O_HELP || c == 'h') {
			options_usage(stdout);
			return OPT_EXIT_OK;
		}
		if (c == O_VERSION) {
			printf("mqttty %s\n", MQTTTY_VERSION);
			return OPT_EXIT_OK;
		}
		if (c == ':' || c == '?') {
			const char *bad = argv[optind - 1];
			snprintf(err, errlen, c == ':' ? "option %s needs a value"
				 : "unknown option %s (see mqttty --help)", bad);
			return OPT_BAD;
		}
		if (c == O_PORT) {
			if (!cli_ports)
				clear_ports(o);   /* the command line wins over MQTTTY_PORT */
			cli_ports = true;
			add_port(o, optarg);
			continue;
		}
		for (size_t i = 0; i < NDEFS; i++)
			if (defs[i].id == c)
				set_str(field(o, &defs[i]), defs[i].arg ? optarg : "1");
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%.64s\" (see mqttty --help)", argv[optind]);
		return OPT_BAD;
	}
	return finish(o, err, errlen);
}

void options_free(struct options *o)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (defs[i].id != O_PORT)
			free(*field(o, &defs[i]));
	clear_ports(o);
}
