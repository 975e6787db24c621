/* metrics — see metrics.h. Each metric family is a row of a table; the
 * gateway-wide values come from the API's own status object, the per-port
 * ones from the state the API shows, so a scrape and GET /api/v1/... agree. */
#include "metrics.h"
#include "web.h"
#include "gateway.h"
#include "mqtt_bridge.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

int metrics_escape_label(char *buf, size_t len, const char *v)
{
	size_t n = 0;

	for (; *v; v++) {
		const char *rep = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
		size_t k = rep ? 2 : 1;
		if (n + k >= len)
			return -1;
		if (rep)
			memcpy(buf + n, rep, 2);
		else
			buf[n] = *v;
		n += k;
	}
	if (n >= len)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* ---- per port --------------------------------------------------------------- */

enum port_val { PV_TX, PV_RX, PV_DROPPED, PV_MSGS, PV_OPEN };

static const struct port_metric {
	const char *name, *type, *help;
	enum port_val val;
} port_metrics[] = {
	{ "mqttty_port_tx_bytes_total", "counter",
	  "Bytes read from the port's local side (published on tx) since the gateway started.",
	  PV_TX },
	{ "mqttty_port_rx_bytes_total", "counter",
	  "Bytes written to the port's local side (from rx, a peer or the API) since the "
	  "gateway started.", PV_RX },
	{ "mqttty_port_dropped_total", "counter",
	  "Bytes the port had to discard (the state's dropped).", PV_DROPPED },
	{ "mqttty_port_messages_total", "counter",
	  "MQTT messages of the port: dir=tx queued for the broker, dir=rx delivered to the "
	  "local side.", PV_MSGS },
	{ "mqttty_port_open", "gauge",
	  "1 while the port is open (an application holds a pty/cuse port; the gateway holds "
	  "a device), else 0.", PV_OPEN },
};

static void port_family(FILE *f, struct gateway *gw, const struct port_metric *m)
{
	char label[4 * PORT_NAME_MAX + 8];

	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, m->type);
	for (size_t i = 0; i < gw->nports; i++) {
		const struct gw_port *gp = gw->ports[i];
		struct port_state st;

		if (gp->be)
			st = gp->be->state;
		else
			port_state_init(&st);
		if (metrics_escape_label(label, sizeof(label), gp->cfg.name) < 0)
			continue;
		switch (m->val) {
		case PV_TX: fprintf(f, "%s{port=\"%s\"} %llu\n", m->name, label,
				    (unsigned long long)st.tx_bytes); break;
		case PV_RX: fprintf(f, "%s{port=\"%s\"} %llu\n", m->name, label,
				    (unsigned long long)st.rx_bytes); break;
		case PV_DROPPED: fprintf(f, "%s{port=\"%s\"} %llu\n", m->name, label,
					 (unsigned long long)st.dropped); break;
		case PV_MSGS:
			fprintf(f, "%s{port=\"%s\",dir=\"tx\"} %llu\n", m->name, label,
				(unsigned long long)gp->tx_msgs);
			fprintf(f, "%s{port=\"%s\",dir=\"rx\"} %llu\n", m->name, label,
				(unsigned long long)gp->rx_msgs);
			break;
		case PV_OPEN: fprintf(f, "%s{port=\"%s\"} %d\n", m->name, label, st.open ? 1 : 0);
			break;
		}
	}
}

/* ---- the gateway -------------------------------------------------------------- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static json_int_t jint(json_t *j, const char *path1, const char *path2)
{
	json_t *v = json_object_get(j, path1);

	if (path2)
		v = json_object_get(v, path2);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* Resident set size from /proc/self/statm; -1 where there is none. */
static long long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 && page > 0 ? (long long)(resident * (unsigned long long)page) : -1;
}

static void gateway_families(FILE *f, struct gateway *gw)
{
	json_t *st = api_status_json(gw);
	json_t *conn = json_object_get(json_object_get(st, "broker"), "connected");
	uint32_t epoch = mqtt_bridge_epoch(gw->mqtt);
	long long rss = rss_bytes();

	family(f, "mqttty_broker_connected", "gauge", "1 while the gateway is connected to the broker.");
	fprintf(f, "mqttty_broker_connected %d\n", json_is_true(conn) ? 1 : 0);
	family(f, "mqttty_broker_reconnects_total", "counter",
	       "Connections to the broker made again after the first one.");
	fprintf(f, "mqttty_broker_reconnects_total %u\n", epoch ? epoch - 1 : 0);
	family(f, "mqttty_websocket_clients", "gauge", "Dashboard websocket clients connected now.");
	fprintf(f, "mqttty_websocket_clients %lld\n", (long long)jint(st, "websocket_clients", NULL));
	/* a summary of the last minute's samples, without _sum/_count (the
	 * gateway keeps only that window, and those two must be cumulative) */
	family(f, "mqttty_loop_lag_seconds", "summary",
	       "Delay of the event loop's 1 s timer over the last minute: quantile 0.99 and "
	       "1 (the maximum).");
	fprintf(f, "mqttty_loop_lag_seconds{quantile=\"0.99\"} %.3f\n",
		(double)jint(st, "loop_lag_ms", "p99") / 1000.0);
	fprintf(f, "mqttty_loop_lag_seconds{quantile=\"1\"} %.3f\n",
		(double)jint(st, "loop_lag_ms", "max") / 1000.0);
	if (rss >= 0) {
		family(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
		fprintf(f, "process_resident_memory_bytes %lld\n", rss);
	}
	json_decref(st);
}

char *metrics_text(struct gateway *gw, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	for (size_t i = 0; i < sizeof(port_metrics) / sizeof(port_metrics[0]); i++)
		port_family(f, gw, &port_metrics[i]);
	gateway_families(f, gw);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* ---- the route ---------------------------------------------------------------- */

/* Does the request carry the --metrics-token as a Bearer token? */
static bool scrape_token_ok(const struct gateway *gw, const char *authorization)
{
	const char *want = gw->opt->metrics_token;
	size_t n;

	if (!want || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	authorization += 7;
	n = strlen(want);
	return strlen(authorization) == n && CRYPTO_memcmp(authorization, want, n) == 0;
}

void metrics_handle(struct gateway *gw, struct web *w, const struct http_req *req,
		    struct http_resp *r)
{
	bool token = gw->opt->metrics_token != NULL, pw = auth_enabled(gw);

	if (req->method != HM_GET) {
		resp_error(r, 405, "only GET is served on /metrics");
		return;
	}
	/* a scrape token alone also closes /metrics when no password is set */
	if ((token || pw) && !scrape_token_ok(gw, req->authorization) &&
	    !(pw && auth_check(gw, w, req->authorization, req->cookie))) {
		resp_error(r, 401, pw ? "log in first, or send Authorization: Bearer TOKEN (an API "
			   "token or the --metrics-token)"
			   : "send Authorization: Bearer TOKEN with the --metrics-token");
		return;
	}
	free(r->body);
	r->body = metrics_text(gw, &r->len);
	if (!r->body) {
		r->len = 0;
		resp_error(r, 500, "out of memory");
		return;
	}
	r->status = 200;
	r->content_type = CONTENT_TYPE;
}
