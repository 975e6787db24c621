/* options — `mqttty serve` options (CONTRACT.md §1): one table drives the
 * command line, the MQTTTY_* environment and --help. */
#ifndef MQTTTY_OPTIONS_H
#define MQTTTY_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "log.h"
#include "uri.h"

struct options {
	char *broker, *ca_file, *cert, *key, *id, *prefix, *db, *link_dir;
	char *group, *http, *tls_cert, *tls_key, *log_level, *rx_hold;
	char *ha_discovery;      /* flag: "1" from the command line, or the env value */
	char *ha_prefix;         /* Home Assistant's discovery prefix */
	char *metrics_token;     /* NULL, or a Bearer token that may read /metrics */
	char **ports;            /* --port NAME, repeatable */
	size_t nports;
	/* derived and checked */
	struct broker_uri uri;
	enum log_level level;
	gid_t gid;
	bool http_off;
	bool ha;                 /* --ha-discovery given (or MQTTTY_HA_DISCOVERY=1) */
	char http_host[256];
	int http_port;
	unsigned rx_hold_s;      /* --rx-hold */
};

enum { OPT_OK = 0, OPT_EXIT_OK = 1, OPT_BAD = 2, OPT_FAIL = 3 };

/* Parse argv (after the subcommand) and the environment into o.
 * OPT_OK: run; OPT_EXIT_OK: --help/--version printed; OPT_BAD: malformed
 * (exit 2); OPT_FAIL: could not pick a default (exit 1). err gets one line. */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);
void options_free(struct options *o);
void options_usage(FILE *f);

/* Default paths (malloc'd; NULL if none is usable). */
char *options_default_db(void);
char *options_default_link_dir(void);

#endif
