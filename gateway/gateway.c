/* gateway — start-up, the MQTT side of the wiring, and a clean shutdown.
 * Every function here runs on the loop thread. */
#include "gateway.h"
#include "mqtt_bridge.h"
#include "osdep.h"
#include "store.h"
#include "log.h"
#include "web.h"
#include "service_notify.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* publish id of the last "offline" (ports use slot << 40 | seq) */
#define OFFLINE_ID UINT64_MAX
#define STOP_DRAIN_MS 2000
#define STOP_OFFLINE_MS 1000
#define STOP_DISCONNECT_MS 1000

/* ---- MQTT events -------------------------------------------------------- */

static void publish_status(struct gateway *gw, const char *s, uint64_t id)
{
	mqtt_bridge_publish(gw->mqtt, gw->topic_status, s, strlen(s), 1, true, id);
}

static void on_connected(void *arg)
{
	struct gateway *gw = arg;

	if (gw->stop_phase)
		return;
	publish_status(gw, "online", 0);
	gw_flush_cleared(gw);
	gw_publish_ports(gw);
	web_event_broker(gw, true);
	for (size_t i = 0; i < gw->nports; i++)
		gw_port_on_connected(gw->ports[i]);
}

static void on_lost(void *arg)
{
	struct gateway *gw = arg;

	web_event_broker(gw, false);
	for (size_t i = 0; i < gw->nports; i++)
		gw_port_on_lost(gw->ports[i]);
}

/* PREFIX/GW/status of a peer gateway: unkey followers when it goes. */
static void on_peer_status(struct gateway *gw, const char *topic, const uint8_t *p, size_t n)
{
	size_t pl = strlen(gw->opt->prefix), tl = strlen(topic);
	char gw_id[72];

	if (tl <= pl + 8 || strncmp(topic, gw->opt->prefix, pl) != 0 || topic[pl] != '/' ||
	    strcmp(topic + tl - 7, "/status") != 0 || tl - pl - 8 >= sizeof(gw_id))
		return;
	memcpy(gw_id, topic + pl + 1, tl - pl - 8);
	gw_id[tl - pl - 8] = '\0';
	if (n == 7 && memcmp(p, "offline", 7) == 0)
		for (size_t i = 0; i < gw->nports; i++)
			if (gw->ports[i]->cfg.follow && gw_port_peer_is(gw->ports[i], gw_id, NULL))
				gw_port_follow_drop(gw->ports[i]);
}

static void on_message(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	struct gateway *gw = arg;
	char scratch[TOPIC_MAX];
	const char *g, *port, *leaf;
	struct gw_port *gp;
	bool tx, state;

	/* every topic we subscribe fits TOPIC_MAX (we built it): longer ones
	 * are not ours */
	if (strlen(topic) >= sizeof(scratch))
		return;
	if (topic_parse(topic, gw->opt->prefix, scratch, &g, &port, &leaf) < 0) {
		on_peer_status(gw, topic, p, n);
		return;
	}
	if (strcmp(leaf, "rx") == 0 || strcmp(leaf, "set") == 0) {
		if (strcmp(g, gw->opt->id) != 0 || !(gp = gw_port_find(gw, port)))
			return;
		if (retained)   /* a stale command is never replayed */
			log_debug("port %s: retained %s ignored", port, leaf);
		else if (leaf[0] == 'r')
			gw_port_rx(gp, p, n);
		else
			gw_port_set(gp, p, n);
		return;
	}
	/* a peer's tx is this port's rx; its (retained) state drives follow.
	 * Only peer topics get here, so the scan stays off the rx path. */
	tx = strcmp(leaf, "tx") == 0;
	state = strcmp(leaf, "state") == 0;
	if (!tx && !state)
		return;
	for (size_t i = 0; i < gw->nports; i++) {
		gp = gw->ports[i];
		if (!gw_port_peer_is(gp, g, port))
			continue;
		if (tx && !retained)
			gw_port_rx(gp, p, n);
		else if (state)
			gw_port_peer_state(gp, p, n);
	}
}

static void stop_step(struct gateway *gw);

static void on_pub_done(void *arg, uint64_t id, uint32_t epoch, int rc)
{
	struct gateway *gw = arg;

	if (id == OFFLINE_ID) {
		if (gw->stop_phase == 2) {
			gw->stop_phase = 3;
			stop_step(gw);
		}
		return;
	}
	gw_port_pub_done(gw, id, rc);
}

static const struct mqtt_bridge_cbs bridge_cbs = {
	.connected = on_connected,
	.lost = on_lost,
	.message = on_message,
	.pub_done = on_pub_done,
};

/* ---- shutdown ------------------------------------------------------------ */

static void on_closed_noop(uv_handle_t *h) { (void)h; }

static void teardown(struct gateway *gw)
{
	web_stop(gw);
	while (gw->nports)
		gw_port_remove(gw, gw->ports[gw->nports - 1]);
	osdep_watch_close(gw->watch);
	uv_close((uv_handle_t *)&gw->sigint, on_closed_noop);
	uv_close((uv_handle_t *)&gw->sigterm, on_closed_noop);
	uv_close((uv_handle_t *)&gw->state_timer, on_closed_noop);
	uv_close((uv_handle_t *)&gw->stop_timer, on_closed_noop);
	mqtt_bridge_free(gw->mqtt);
	log_info("stopped");
}

static void on_disconnected(void *arg)
{
	teardown(arg);
}

static bool tx_drained(struct gateway *gw)
{
	for (size_t i = 0; i < gw->nports; i++)
		if (gw->ports[i]->txq_head)
			return false;
	return true;
}

/* Phases: 1 drain tx queues, 2 "offline" acknowledged, 3 disconnect. */
static void stop_step(struct gateway *gw)
{
	uint64_t elapsed = gw_now_ms(gw) - gw->stop_started;
	bool up = mqtt_bridge_connected(gw->mqtt);

	if (gw->stop_phase == 1 && (!up || tx_drained(gw) || elapsed >= STOP_DRAIN_MS)) {
		gw->stop_phase = 2;
		gw->stop_started = gw_now_ms(gw);
		elapsed = 0;
		if (up)
			publish_status(gw, "offline", OFFLINE_ID);
	}
	if (gw->stop_phase == 2 && (!up || elapsed >= STOP_OFFLINE_MS))
		gw->stop_phase = 3;
	if (gw->stop_phase == 3) {
		gw->stop_phase = 4;
		uv_timer_stop(&gw->stop_timer);
		mqtt_bridge_disconnect(gw->mqtt, STOP_DISCONNECT_MS, on_disconnected, gw);
	}
}

static void on_stop_timer(uv_timer_t *t)
{
	stop_step(t->data);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct gateway *gw = s->data;

	if (gw->stop_phase)
		return;
	log_info("signal %d: shutting down", signum);
	gw->stop_phase = 1;
	gw->stop_started = gw_now_ms(gw);
	for (size_t i = 0; i < gw->nports; i++)
		gw_port_flush(gw->ports[i]);
	uv_timer_start(&gw->stop_timer, on_stop_timer, 0, 20);
}

/* ---- start-up ----------------------------------------------------------- */

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int prepare_link_dir(const char *dir)
{
	struct stat st;
	int rc = mkdir_p(dir, 0755);

	if (rc < 0) {
		fprintf(stderr, "mqttty: cannot create link directory %s: %s; "
			"choose another with --link-dir\n", dir, strerror(-rc));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "mqttty: link directory %s is not a writable directory; "
			"choose another with --link-dir\n", dir);
		return -1;
	}
	return 0;
}

/* Links are announced (API, `ports` topic) by their path: make it absolute
 * so it means the same to every client. opt->link_dir is replaced. */
static void absolute_link_dir(struct options *opt)
{
	char *abs = realpath(opt->link_dir, NULL);

	if (abs) {
		free(opt->link_dir);
		opt->link_dir = abs;
	}
}

struct load_ctx {
	struct gateway *gw;
};

static void load_port(const struct port_config *c, void *arg)
{
	struct load_ctx *l = arg;
	char err[512];

	if (gw_port_add(l->gw, c, err, sizeof(err)) < 0)
		log_error("%s", err);
}

/* Stored ports first, then --port names not stored yet (persisted). */
static int load_ports(struct gateway *gw)
{
	struct load_ctx l = { gw };
	char err[512];

	if (store_port_list(gw->store, load_port, &l, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty: %s\n", err);
		return -1;
	}
	if (gw->opt->nports && store_begin(gw->store, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < gw->opt->nports; i++) {
		struct port_config c;
		if (gw_port_find(gw, gw->opt->ports[i]))
			continue;
		port_config_defaults(&c);
		snprintf(c.name, sizeof(c.name), "%s", gw->opt->ports[i]);
		if (store_port_add(gw->store, &c, err, sizeof(err)) < 0) {
			fprintf(stderr, "mqttty: %s\n", err);
			return -1;   /* the open transaction is rolled back at close */
		}
		if (gw_port_add(gw, &c, err, sizeof(err)) < 0)
			log_error("%s", err);
	}
	if (gw->opt->nports && store_commit(gw->store, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty: %s\n", err);
		return -1;
	}
	return 0;
}

static int gateway_init(struct gateway *gw, struct options *opt, uv_loop_t *loop)
{
	struct mqtt_bridge_cfg bc = { 0 };
	char err[512], client_id[80];

	memset(gw, 0, sizeof(*gw));
	gw->loop = loop;
	gw->opt = opt;
	topic_gateway(gw->topic_status, TOPIC_MAX, opt->prefix, opt->id, "status");
	topic_gateway(gw->topic_ports, TOPIC_MAX, opt->prefix, opt->id, "ports");
	if (prepare_link_dir(opt->link_dir) < 0)
		return -1;
	absolute_link_dir(opt);
	if (store_open(opt->db, &gw->store, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty: %s\n", err);
		return -1;
	}
	if (osdep_watch_new(loop, &gw->watch, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty: %s\n", err);
		return -1;
	}
	gw->env = (struct port_env){ loop, gw->watch, opt->link_dir, opt->gid, RX_LIMIT };
	snprintf(client_id, sizeof(client_id), "mqttty-%s", opt->id);
	bc.uri = opt->uri;
	bc.ca_file = opt->ca_file;
	bc.cert = opt->cert;
	bc.key = opt->key;
	bc.client_id = client_id;
	bc.will_topic = gw->topic_status;
	bc.keepalive = 10;
	if (mqtt_bridge_new(loop, &bc, &bridge_cbs, gw, &gw->mqtt, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty: %s\n", err);
		return -1;
	}
	uv_timer_init(loop, &gw->state_timer);
	gw->state_timer.data = gw;
	uv_timer_init(loop, &gw->stop_timer);
	gw->stop_timer.data = gw;
	uv_signal_init(loop, &gw->sigint);
	uv_signal_init(loop, &gw->sigterm);
	gw->sigint.data = gw->sigterm.data = gw;
	return 0;
}

int gateway_run(struct options *opt)
{
	struct gateway gw;
	uv_loop_t loop;
	struct service_notify *sn;
	char err[512];
	int rc = 1;

	log_set_level(opt->level);
	osdep_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	if (gateway_init(&gw, opt, &loop) < 0)
		goto out;
	if (load_ports(&gw) < 0)
		goto out;
	if (web_start(&gw, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty: %s\n", err);
		goto out;
	}
	uv_signal_start(&gw.sigint, on_signal, SIGINT);
	uv_signal_start(&gw.sigterm, on_signal, SIGTERM);
	log_info("mqttty %s: id %s, broker %s, %zu port(s), links in %s", MQTTTY_VERSION,
		 opt->id, opt->uri.display, gw.nports, opt->link_dir);
	mqtt_bridge_start(gw.mqtt);
	sn = service_notify_ready(&loop);       /* systemd: READY=1, watchdog */
	uv_run(&loop, UV_RUN_DEFAULT);
	service_notify_close(sn);               /* its timer is unreferenced: close it last */
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = 0;
out:
	if (rc) {
		/* start-up failed: close what was opened, then let handles finish */
		if (gw.mqtt) {
			web_stop(&gw);
			while (gw.nports)
				gw_port_remove(&gw, gw.ports[gw.nports - 1]);
			uv_close((uv_handle_t *)&gw.sigint, on_closed_noop);
			uv_close((uv_handle_t *)&gw.sigterm, on_closed_noop);
			uv_close((uv_handle_t *)&gw.state_timer, on_closed_noop);
			uv_close((uv_handle_t *)&gw.stop_timer, on_closed_noop);
			mqtt_bridge_free(gw.mqtt);
		}
		if (gw.watch)
			osdep_watch_close(gw.watch);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	web_free(&gw);
	free(gw.cleared);
	free(gw.ports);
	free(gw.slots);
	if (gw.store)
		store_close(gw.store);
	if (uv_loop_close(&loop) != 0)
		log_warn("loop closed with handles still alive");
	return rc;
}
