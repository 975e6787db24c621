/* gateway — start-up, the MQTT side of the wiring, and a clean shutdown.
 * Every function here runs on the loop thread. */
#include "gateway.h"
#include "mqtt_bridge.h"
#include "osdep.h"
#include "port_link.h"
#include "port_svc.h"
#include "store.h"
#include "log.h"
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

static void on_connected(void *arg, bool resumed)
{
	struct gateway *gw = arg;

	if (gw->stop_phase)
		return;
	publish_status(gw, "online", 0);
	for (size_t i = 0; i < gw->nsubs; i++)
		mqtt_bridge_subscribe(gw->mqtt, gw->subs[i]->filter, gw->subs[i]->qos);
	gw_flush_cleared(gw);
	gw_publish_ports(gw);
	gw_events_broker(&gw->events, true);
	for (size_t i = 0; i < gw->nports; i++)
		gw_port_on_connected(gw->ports[i], resumed);
}

static void on_lost(void *arg)
{
	struct gateway *gw = arg;

	gw_events_broker(&gw->events, false);
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

static void on_port_message(struct gateway *gw, const char *topic, const uint8_t *p, size_t n,
			    bool retained)
{
	char scratch[TOPIC_MAX];
	const char *g, *port, *leaf;
	struct gw_port *gp;
	bool tx, state;
	char err[256];

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
			gw_port_rx(gp, p, n, "mqtt");
		else if (port_svc_set(gp, p, n, err, sizeof(err)) < 0)
			log_warn("port %s: %s", port, err);
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
			gw_port_rx(gp, p, n, "peer");
		else if (state)
			gw_port_peer_state(gp, p, n);
	}
}

/* ---- observers' own subscriptions --------------------------------------- */

int gw_subscribe(struct gateway *gw, const struct gw_sub *s)
{
	if (gw->nsubs == GW_SUBS_MAX)
		return -ENOSPC;
	gw->subs[gw->nsubs++] = s;
	if (mqtt_bridge_connected(gw->mqtt))
		mqtt_bridge_subscribe(gw->mqtt, s->filter, s->qos);
	return 0;
}

void gw_unsubscribe(struct gateway *gw, const struct gw_sub *s)
{
	for (size_t i = 0; i < gw->nsubs; i++) {
		if (gw->subs[i] != s)
			continue;
		memmove(gw->subs + i, gw->subs + i + 1, (gw->nsubs - i - 1) * sizeof(*gw->subs));
		gw->nsubs--;
		if (mqtt_bridge_connected(gw->mqtt))
			mqtt_bridge_unsubscribe(gw->mqtt, s->filter);
		return;
	}
}

int gw_publish(struct gateway *gw, const char *topic, const void *p, size_t n, int qos,
	       bool retained)
{
	return mqtt_bridge_publish(gw->mqtt, topic, p, n, qos, retained, 0);
}

bool gw_broker_connected(const struct gateway *gw)
{
	return mqtt_bridge_connected(gw->mqtt);
}

/* Observers first (they may watch any topic), then the ports' own. */
static void on_message(void *arg, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	struct gateway *gw = arg;

	for (size_t i = 0; i < gw->nsubs; i++)
		if (topic_match(gw->subs[i]->filter, topic))
			gw->subs[i]->cb(gw->subs[i]->arg, topic, p, n, retained);
	on_port_message(gw, topic, p, n, retained);
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

/* The ports a topic of ours belongs to: its own rx/set, or a peer's
 * tx/state that ports name. fn is called for each. */
static void for_topic(struct gateway *gw, const char *topic,
		      void (*fn)(struct gw_port *gp, void *arg), void *arg)
{
	char scratch[TOPIC_MAX];
	const char *g, *port, *leaf;
	struct gw_port *gp;

	if (strlen(topic) >= sizeof(scratch) ||
	    topic_parse(topic, gw->opt->prefix, scratch, &g, &port, &leaf) < 0)
		return;
	if (strcmp(g, gw->opt->id) == 0 && (gp = gw_port_find(gw, port)) &&
	    (strcmp(leaf, "rx") == 0 || strcmp(leaf, "set") == 0)) {
		fn(gp, arg);
		return;
	}
	for (size_t i = 0; i < gw->nports; i++)
		if (gw_port_peer_is(gw->ports[i], g, port))
			fn(gw->ports[i], arg);
}

static void count_dropped(struct gw_port *gp, void *arg)
{
	if (gp->be) {
		gp->be->state.dropped += *(const uint64_t *)arg;
		gw_state_timer_kick(gp->gw);
	}
}

/* Messages the hand-off queue could not take: counted against their port
 * (its `dropped`), and gateway-wide in the status. */
static void on_rx_dropped(void *arg, const char *topic, uint64_t n, uint64_t bytes)
{
	struct gateway *gw = arg;

	gw->rx_lost_msgs += n;
	gw->rx_lost_bytes += bytes;
	if (topic)
		for_topic(gw, topic, count_dropped, &bytes);
	log_warn("%llu message(s) on %s dropped: the gateway fell behind the broker",
		 (unsigned long long)n, topic ? topic : "several topics");
}

static void mark_refused(struct gw_port *gp, void *arg)
{
	gw_port_set_problem(gp, "the broker refused the subscription to %s", (const char *)arg);
	gp->problem_sub = true;
}

static void on_sub_refused(void *arg, const char *topic, int code)
{
	struct gateway *gw = arg;

	gw->sub_refused++;
	log_error("mqtt: the broker refused the subscription to %s (%d): nothing published "
		  "there reaches this gateway; check the broker's ACL", topic, code);
	for_topic(gw, topic, mark_refused, (void *)topic);
}

static const struct mqtt_bridge_cbs bridge_cbs = {
	.connected = on_connected,
	.lost = on_lost,
	.message = on_message,
	.pub_done = on_pub_done,
	.rx_dropped = on_rx_dropped,
	.sub_refused = on_sub_refused,
};

/* ---- shutdown ------------------------------------------------------------ */

static void on_closed_noop(uv_handle_t *h) { (void)h; }

static void modules_stop(struct gateway *gw)
{
	for (size_t i = gw->nmods; i-- > 0;)
		if (gw->mods[i].stop)
			gw->mods[i].stop(gw);
}

static void close_handles(struct gateway *gw)
{
	uv_close((uv_handle_t *)&gw->sigint, on_closed_noop);
	uv_close((uv_handle_t *)&gw->sigterm, on_closed_noop);
	uv_close((uv_handle_t *)&gw->state_timer, on_closed_noop);
	uv_close((uv_handle_t *)&gw->stop_timer, on_closed_noop);
	uv_close((uv_handle_t *)&gw->pump_idle, on_closed_noop);
	uv_close((uv_handle_t *)&gw->pump_timer, on_closed_noop);
}

static void teardown(struct gateway *gw)
{
	modules_stop(gw);
	while (gw->nports)
		gw_port_remove(gw, gw->ports[gw->nports - 1]);
	osdep_watch_close(gw->watch);
	close_handles(gw);
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
		log_plain(LOG_ERROR, "mqttty: cannot create link directory %s: %s; "
			"choose another with --link-dir", dir, strerror(-rc));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
		log_plain(LOG_ERROR, "mqttty: link directory %s is not a writable directory; "
			"choose another with --link-dir", dir);
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
	port_link_clean(opt->link_dir);   /* left by a kill between symlink and rename */
	if (store_open(opt->db, &gw->store, err, sizeof(err)) < 0) {
		log_plain(LOG_ERROR, "mqttty: %s", err);
		return -1;
	}
	if (osdep_watch_new(loop, &gw->watch, err, sizeof(err)) < 0) {
		log_plain(LOG_ERROR, "mqttty: %s", err);
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
	bc.rx_hold_ms = opt->rx_hold_s * 1000u;
	if (mqtt_bridge_new(loop, &bc, &bridge_cbs, gw, &gw->mqtt, err, sizeof(err)) < 0) {
		log_plain(LOG_ERROR, "mqttty: %s", err);
		return -1;
	}
	if (uv_timer_init(loop, &gw->state_timer) < 0 || uv_timer_init(loop, &gw->stop_timer) < 0 ||
	    uv_idle_init(loop, &gw->pump_idle) < 0 ||
	    uv_timer_init(loop, &gw->pump_timer) < 0 ||
	    uv_signal_init(loop, &gw->sigint) < 0 ||
	    uv_signal_init(loop, &gw->sigterm) < 0) {
		log_plain(LOG_ERROR, "mqttty: cannot set up the event loop's timers and signals");
		return -1;
	}
	gw->state_timer.data = gw->stop_timer.data = gw;
	gw->pump_idle.data = gw->pump_timer.data = gw;
	gw->pump_tail = &gw->pump_head;
	gw->sigint.data = gw->sigterm.data = gw;
	/* the loop thread must never wait on another process's lock for long */
	store_set_busy_timeout(gw->store, 250);
	return 0;
}

/* ---- loop lag: the delay of a 1 s timer ------------------------------------ */

void gw_lag_sample(struct gateway *gw)
{
	uint64_t now = uv_now(gw->loop);
	struct loop_lag *l = &gw->lag;

	l->ms[l->next] = now > l->due ? (uint32_t)(now - l->due) : 0;
	l->at[l->next] = now;
	l->next = (l->next + 1) % LAG_SAMPLES;
	if (l->n < LAG_SAMPLES)
		l->n++;
	l->due = now + LAG_PERIOD_MS;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

json_t *gateway_status_json(struct gateway *gw)
{
	uint32_t v[LAG_SAMPLES];
	uint64_t now = uv_now(gw->loop);
	size_t n = 0;
	json_t *j, *problems = json_object();

	for (size_t i = 0; i < gw->lag.n; i++)     /* the last minute's */
		if (now - gw->lag.at[i] <= 60000)
			v[n++] = gw->lag.ms[i];
	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0; problems && i < gw->nports; i++)
		if (gw->ports[i]->problem[0])
			json_object_set_new(problems, gw->ports[i]->cfg.name,
					    json_string(gw->ports[i]->problem));
	j = json_pack("{s:s, s:s, s:{s:b, s:s}, s:I, s:{s:I, s:I}, s:{s:I, s:I}, s:I}",
			 "id", gw->opt->id, "version", MQTTTY_VERSION,
			 "broker", "connected", mqtt_bridge_connected(gw->mqtt),
			 "uri", gw->opt->uri.display, "ports", (json_int_t)gw->nports,
			 "loop_lag_ms", "p99", (json_int_t)(n ? v[(n * 99 - 1) / 100] : 0),
			 "max", (json_int_t)(n ? v[n - 1] : 0),
			 "rx_lost", "messages", (json_int_t)gw->rx_lost_msgs,
			 "bytes", (json_int_t)gw->rx_lost_bytes,
			 "subscriptions_refused", (json_int_t)gw->sub_refused);
	/* per port: why it is not working as configured ({} when all is well) */
	if (j && problems)
		json_object_set(j, "problems", problems);
	json_decref(problems);
	return j;
}

static void on_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	log_error("loop handle still alive at exit: %s%s", uv_handle_type_name(h->type),
		  uv_is_closing(h) ? " (closing)" : "");
}

int gateway_run(struct options *opt, const struct gw_module *mods, size_t nmods)
{
	struct gateway gw;
	uv_loop_t loop;
	struct service_notify *sn;
	char err[512];
	size_t started = 0;
	int rc = 1;

	log_set_level(opt->level);
	osdep_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&loop) < 0) {
		log_plain(LOG_ERROR, "mqttty: cannot create the event loop");
		return 1;
	}
	if (gateway_init(&gw, opt, &loop) < 0)
		goto out;
	gw.mods = mods;
	gw.nmods = nmods;
	/* caught before the first link exists: a SIGTERM from then on is a
	 * clean stop (handled once the loop runs), never the default death */
	if (uv_signal_start(&gw.sigint, on_signal, SIGINT) < 0 ||
	    uv_signal_start(&gw.sigterm, on_signal, SIGTERM) < 0) {
		log_plain(LOG_ERROR, "mqttty: cannot catch SIGINT/SIGTERM for a clean stop");
		goto out;
	}
	if (port_svc_load(&gw, err, sizeof(err)) < 0) {
		log_plain(LOG_ERROR, "mqttty: %s", err);
		goto out;
	}
	for (; started < nmods; started++) {
		if (mods[started].start(&gw, err, sizeof(err)) < 0) {
			log_plain(LOG_ERROR, "mqttty: %s", err);
			goto out;
		}
	}
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
			gw.nmods = started;
			modules_stop(&gw);
			while (gw.nports)
				gw_port_remove(&gw, gw.ports[gw.nports - 1]);
			close_handles(&gw);
			mqtt_bridge_free(gw.mqtt);
		}
		if (gw.watch)
			osdep_watch_close(gw.watch);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	for (size_t i = started; i-- > 0;)
		if (mods[i].free)
			mods[i].free(&gw);
	free(gw.cleared);
	free(gw.ports);
	free(gw.slots);
	if (gw.store)
		store_close(gw.store);
	if (uv_loop_close(&loop) != 0) {
		/* a leak of a handle is a bug: say which, and fail */
		uv_walk(&loop, on_walk, NULL);
		log_error("the event loop closed with handles still alive");
		rc = rc ? rc : 1;
	}
	return rc;
}
