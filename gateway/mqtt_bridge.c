/* mqtt_bridge — see mqtt_bridge.h for the threading contract. */
#include "mqtt_bridge.h"
#include "hq.h"
#include "log.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000
#define HQ_LIMIT 65536
#define PAHO_BUFFERED 65536

/* One per publish that wants a callback; crosses to Paho's thread and back.
 * Its completion travels to the loop as the event embedded in it, so a
 * publish costs no allocation and no lock of its own: contexts come from
 * chunks the bridge owns (freed with it, so those Paho never answers are
 * freed too) and go back on a free list that only the loop thread uses. */
struct pub_ctx {
	struct hq_event ev;             /* HQ_PUB_DONE: id, epoch; rc set by Paho's thread */
	struct mqtt_bridge *b;
	struct pub_ctx *next_free;      /* loop thread only */
	int qos;
	unsigned client_gen;            /* which Paho client took it */
};

#define PUB_CHUNK 128
struct pub_chunk {
	struct pub_chunk *next;
	struct pub_ctx ctx[PUB_CHUNK];
};

struct mqtt_bridge {
	uv_loop_t *loop;
	MQTTAsync client;
	struct broker_uri uri;
	char *client_id, *will_topic;
	char *ca_file, *cert, *key;
	int keepalive;
	uint32_t rx_hold_ms;
	uint64_t lost_at;               /* loop time the last connection ended */
	bool ever_up;                   /* a connection was reported once */
	bool wiping, wiped;             /* the clean connect before a persistent one */
	bool attempt_clean;             /* what the attempt in progress asked */
	struct mqtt_bridge_cbs cbs;
	void *arg;

	struct hq q;                    /* Paho threads -> loop */
	uv_async_t wake;
	/* lazy completions outstanding (loop thread): while there are any,
	 * the queue is also looked at the end of every loop turn and by a
	 * timer, since Paho's thread does not wake the loop for them */
	size_t lazy_out;
	uv_check_t lazy_check;
	uv_timer_t lazy_timer;
	uv_timer_t retry;
	unsigned backoff_ms;
	bool connected, connecting, stopping;
	int closes_pending;
	uint32_t epoch;
	size_t hq_dropped_seen, hq_told;   /* drops seen / told per topic */

	/* subscriptions awaiting their SUBACK (loop thread only): the token
	 * Paho gave each, and its topic; cleared on every connect */
	struct sub_wait { int token; char *topic; } *subs;
	size_t nsubs, subs_cap;

	/* publish contexts (loop thread only): all chunks, and the free ones */
	struct pub_chunk *chunks;
	struct pub_ctx *ctx_free;

	void (*disc_done)(void *arg);
	void *disc_arg;
	uv_timer_t disc_timer;

	/* A connection lost with publishes still in Paho's hands is continued
	 * with a fresh Paho client (client_renew), and the ports send those
	 * publishes again themselves, in order. Paho would keep their order only
	 * if the broker still had the session: after a broker restart without
	 * persistence it drops what was in flight but sends what was queued
	 * behind it, ahead of our re-send (tx out of order, seen in the broker
	 * restart test).
	 * poisoned: Paho 1.3.12 failed a QoS 1/2 publish on a socket error: it
	 * freed the publish's topic while the message stays in flight for
	 * re-sending, so a resumed connection reads freed memory and destroying
	 * the client frees it twice. That client is left alone for good. */
	size_t outstanding;             /* publishes with a completion, handed to the current client */
	bool renew;                     /* the next connect uses a fresh client */
	bool poisoned;
	bool renewed;                   /* since the last connection: in-flight publishes are gone */
	unsigned abandoned;             /* clients left alone so far */
	unsigned client_gen;            /* counts clients: a late failure of an old one is not the current one's */
};

/* ---- Paho threads: copy, enqueue, wake --------------------------------- */

static void push(struct mqtt_bridge *b, struct hq_event *e)
{
	if (!e)
		return;
	if (hq_push(&b->q, e) == 1)
		uv_async_send(&b->wake);
}

static void on_paho_lost(void *ctx, char *cause)
{
	push(ctx, hq_event_new(HQ_LOST, NULL, NULL, 0));
}

static int on_paho_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct mqtt_bridge *b = ctx;
	struct hq_event *e;
	char *t = topic_len ? strndup(topic, (size_t)topic_len) : NULL;

	e = hq_event_new(HQ_MESSAGE, t ? t : topic, m->payload, (size_t)m->payloadlen);
	if (e)
		e->retained = m->retained;
	free(t);
	push(b, e);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_paho_connect_ok(void *ctx, MQTTAsync_successData *r)
{
	push(ctx, hq_event_new(HQ_CONNECTED, NULL, NULL, 0));
}

static void on_paho_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
	struct hq_event *e = hq_event_new(HQ_CONNECT_FAIL, NULL, NULL, 0);

	if (e)
		e->rc = r ? r->code : -1;
	push(ctx, e);
}

static void pub_finish(struct pub_ctx *c, int rc)
{
	c->ev.rc = rc;
	push(c->b, &c->ev);
}

static void on_paho_pub_ok(void *ctx, MQTTAsync_successData *r)
{
	pub_finish(ctx, 0);
}

static void on_paho_pub_fail(void *ctx, MQTTAsync_failureData *r)
{
	pub_finish(ctx, r && r->code ? r->code : -1);
}

static void sub_finish(struct mqtt_bridge *b, int token, int rc)
{
	struct hq_event *e = hq_event_new(HQ_SUB_DONE, NULL, NULL, 0);

	if (e) {
		e->id = (uint64_t)(unsigned)token;
		e->rc = rc;
	}
	push(b, e);
}

static void on_paho_sub_ok(void *ctx, MQTTAsync_successData *r)
{
	sub_finish(ctx, r ? r->token : 0, r ? r->alt.qos : 0);
}

static void on_paho_sub_fail(void *ctx, MQTTAsync_failureData *r)
{
	sub_finish(ctx, r ? r->token : 0, r && r->code ? r->code : 0x80);
}

static void on_paho_disc(void *ctx, MQTTAsync_successData *r)
{
	push(ctx, hq_event_new(HQ_DISCONNECTED, NULL, NULL, 0));
}

static void on_paho_disc_fail(void *ctx, MQTTAsync_failureData *r)
{
	push(ctx, hq_event_new(HQ_DISCONNECTED, NULL, NULL, 0));
}

/* ---- loop thread ------------------------------------------------------- */

static void schedule_retry(struct mqtt_bridge *b);
static int client_create(struct mqtt_bridge *b, MQTTAsync *out);

/* The next connection with a fresh client (see mqtt_bridge.renew). The old
 * one is destroyed, its publishes failing back to us as late completions of
 * an old client (ignored: the ports send them again anyway); a poisoned one
 * is left alone for good instead: no connect, disconnect or destroy touches
 * it again, so nothing reads or frees the topic Paho lost. */
static int client_renew(struct mqtt_bridge *b)
{
	MQTTAsync fresh, old = b->client;
	int rc = client_create(b, &fresh);

	if (rc != MQTTASYNC_SUCCESS) {
		log_error("mqtt: cannot create a fresh MQTT client (%d), retrying", rc);
		return -1;
	}
	b->client = fresh;
	b->client_gen++;
	b->lazy_out = 0;        /* the old client's never come: do not wait for them */
	b->outstanding = 0;
	b->renew = false;
	b->renewed = true;
	if (b->poisoned) {
		b->poisoned = false;
		b->abandoned++;
		log_warn("mqtt: a fresh MQTT client replaces the one whose QoS 1 publish failed on a "
			 "socket error (Paho 1.3.12 would resend it from freed memory; %u left alone "
			 "so far)", b->abandoned);
	} else {
		log_debug("mqtt: a fresh MQTT client; the publishes the lost connection held go again");
		MQTTAsync_destroy(&old);
	}
	return 0;
}

/* Paho never sets TCP_NODELAY: find its socket (a TCP socket connected to
 * the broker's port) among our open fds and set it, so small frames are not
 * held back. /proc/self/fd lists only the fds that exist. */
static void set_nodelay(struct mqtt_bridge *b)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss), tl;
		int fd = atoi(de->d_name), type, one = 1;
		in_port_t port;

		tl = sizeof(type);
		if (fd < 3 || fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM ||
		    getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
			continue;
		if (ss.ss_family == AF_INET)
			port = ((struct sockaddr_in *)&ss)->sin_port;
		else if (ss.ss_family == AF_INET6)
			port = ((struct sockaddr_in6 *)&ss)->sin6_port;
		else
			continue;
		if (ntohs(port) == b->uri.port)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	closedir(d);
}

/* Which kind of session the next connect asks for (CONTRACT §5). */
static int session_clean(struct mqtt_bridge *b)
{
	uint64_t away;

	if (!b->rx_hold_ms)
		return 1;
	if (b->wiped)
		return 0;           /* the persistent connect after a wipe */
	away = uv_now(b->loop) - b->lost_at;
	if (b->ever_up && away <= b->rx_hold_ms)
		return 0;           /* resume: the broker kept what came meanwhile */
	b->wiping = true;           /* start, or too long away: nothing stale */
	return 1;
}

static void do_connect(struct mqtt_bridge *b)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	int rc;

	if (b->connected || b->connecting || b->stopping)
		return;
	if ((b->renew || b->poisoned) && client_renew(b) < 0) {
		schedule_retry(b);
		return;
	}
	o.keepAliveInterval = b->keepalive;
	o.cleansession = session_clean(b);
	b->attempt_clean = o.cleansession;
	o.connectTimeout = 5;
	o.automaticReconnect = 0;       /* ours: one mechanism, on our loop */
	o.MQTTVersion = MQTTVERSION_3_1_1;
	o.maxInflight = 65535;
	o.onSuccess = on_paho_connect_ok;
	o.onFailure = on_paho_connect_fail;
	o.context = b;
	will.topicName = b->will_topic;
	will.message = "offline";
	will.retained = 1;
	will.qos = 1;
	o.will = &will;
	if (b->uri.user[0])
		o.username = b->uri.user;
	if (b->uri.has_pass)
		o.password = b->uri.pass;
	if (b->uri.tls) {
		ssl.trustStore = b->ca_file;
		ssl.keyStore = b->cert;
		ssl.privateKey = b->key;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		if (!b->ca_file)
			ssl.CApath = NULL;
		o.ssl = &ssl;
	}
	b->connecting = true;
	rc = MQTTAsync_connect(b->client, &o);
	if (rc != MQTTASYNC_SUCCESS) {
		b->connecting = false;
		/* right behind the wipe Paho may still be disconnecting: the
		 * wipe's own completion connects again */
		if (b->wiped)
			log_debug("mqtt: connect to %s not taken yet (%d)", b->uri.display, rc);
		else
			log_warn("mqtt: connect to %s failed to start (%d)", b->uri.display, rc);
		schedule_retry(b);
	}
}

static void on_retry(uv_timer_t *t)
{
	do_connect(t->data);
}

static void schedule_retry(struct mqtt_bridge *b)
{
	if (b->stopping)
		return;
	uv_timer_start(&b->retry, on_retry, b->backoff_ms, 0);
	b->backoff_ms = b->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->backoff_ms * 2;
}

static void subs_clear(struct mqtt_bridge *b)
{
	for (size_t i = 0; i < b->nsubs; i++)
		free(b->subs[i].topic);
	b->nsubs = 0;
}

static void sub_done(struct mqtt_bridge *b, int token, int rc)
{
	for (size_t i = 0; i < b->nsubs; i++) {
		if (b->subs[i].token != token)
			continue;
		if ((rc < 0 || rc == 0x80) && b->cbs.sub_refused)
			b->cbs.sub_refused(b->arg, b->subs[i].topic, rc);
		free(b->subs[i].topic);
		b->subs[i] = b->subs[--b->nsubs];
		return;
	}
}

static void on_paho_wipe_disc(void *ctx, MQTTAsync_successData *r)
{
	push(ctx, hq_event_new(HQ_WIPED, NULL, NULL, 0));
}

static void on_paho_wipe_disc_fail(void *ctx, MQTTAsync_failureData *r)
{
	push(ctx, hq_event_new(HQ_WIPED, NULL, NULL, 0));
}

/* The clean connect ended the broker's old session: leave at once (a
 * clean session ends with its connection) and connect for good with a
 * persistent one. */
static void wipe_done(struct mqtt_bridge *b)
{
	MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer;

	b->wiping = false;
	b->wiped = true;
	log_debug("mqtt: old session wiped, reconnecting with a persistent one");
	o.timeout = 0;
	o.onSuccess = on_paho_wipe_disc;
	o.onFailure = on_paho_wipe_disc_fail;
	o.context = b;
	b->connecting = false;
	if (MQTTAsync_disconnect(b->client, &o) != MQTTASYNC_SUCCESS) {
		schedule_retry(b);
		return;
	}
	/* queued right behind the disconnect, so Paho's command thread runs
	 * both in one go (a connect issued from the disconnect's callback
	 * waits for its next 1 s cycle) */
	do_connect(b);
}

static void handle_event(struct mqtt_bridge *b, struct hq_event *e)
{
	bool resumed;

	switch (e->type) {
	case HQ_WIPED:
		log_debug("mqtt: wipe disconnect done");
		/* the connect queued behind the disconnect may have been refused
		 * while Paho was still disconnecting: then connect now */
		if (!b->connected && !b->connecting && !b->stopping) {
			uv_timer_stop(&b->retry);
			do_connect(b);
		}
		break;
	case HQ_CONNECTED:
		subs_clear(b);      /* answers of a past connection never come */
		if (b->wiping) {
			wipe_done(b);
			break;
		}
		b->wiped = false;
		b->connecting = false;
		b->connected = true;
		b->epoch++;
		b->backoff_ms = BACKOFF_MIN_MS;
		set_nodelay(b);
		resumed = b->ever_up && !b->attempt_clean;
		log_info("mqtt: connected to %s%s", b->uri.display,
			 resumed ? (b->renewed ? " (session resumed, with a fresh client)"
					       : " (session resumed)") : "");
		b->ever_up = true;
		/* a fresh client holds none of the publishes that were in flight */
		resumed = resumed && !b->renewed;
		b->renewed = false;
		b->cbs.connected(b->arg, resumed);
		break;
	case HQ_CONNECT_FAIL:
		b->connecting = false;
		b->wiping = false;      /* decided again by the next attempt */
		log_debug("mqtt: connect to %s failed (%d), retry in %u ms", b->uri.display,
			  e->rc, b->backoff_ms);
		schedule_retry(b);
		break;
	case HQ_LOST:
		if (!b->connected)
			break;
		b->connected = false;
		b->lost_at = uv_now(b->loop);
		if (b->outstanding)
			b->renew = true;
		log_warn("mqtt: connection to %s lost", b->uri.display);
		b->cbs.lost(b->arg);
		schedule_retry(b);
		break;
	case HQ_MESSAGE:
		b->cbs.message(b->arg, e->topic ? e->topic : "", e->payload, e->len, e->retained);
		break;
	case HQ_PUB_DONE:
		/* MQTTASYNC_FAILURE on a QoS 1/2 publish is Paho's socket-error
		 * path, which frees the topic of a message it keeps in flight */
		if (e->rc == MQTTASYNC_FAILURE && ((struct pub_ctx *)e)->qos > 0 &&
		    ((struct pub_ctx *)e)->client_gen == b->client_gen && !b->poisoned) {
			b->poisoned = true;
			log_debug("mqtt: a QoS %d publish failed on a socket error",
				  ((struct pub_ctx *)e)->qos);
		}
		/* an old client's failures: its publishes go again already */
		if (e->id && (e->rc == 0 || ((struct pub_ctx *)e)->client_gen == b->client_gen))
			b->cbs.pub_done(b->arg, e->id, e->epoch, e->rc);
		break;
	case HQ_DROPPED:
		b->hq_told += (size_t)e->rc;
		if (b->cbs.rx_dropped)
			b->cbs.rx_dropped(b->arg, e->topic, (uint64_t)e->rc, e->len);
		break;
	case HQ_SUB_DONE:
		sub_done(b, (int)e->id, e->rc);
		break;
	case HQ_DISCONNECTED:
		if (b->disc_done) {
			void (*done)(void *) = b->disc_done;
			b->disc_done = NULL;
			uv_timer_stop(&b->disc_timer);
			done(b->disc_arg);
		}
		break;
	}
}

/* A context for a publish that wants its completion (loop thread). */
static struct pub_ctx *ctx_get(struct mqtt_bridge *b)
{
	struct pub_ctx *c = b->ctx_free;

	if (!c) {
		struct pub_chunk *k = malloc(sizeof(*k));
		if (!k)
			return NULL;
		k->next = b->chunks;
		b->chunks = k;
		for (size_t i = PUB_CHUNK; i-- > 0;) {
			k->ctx[i].next_free = c;
			c = &k->ctx[i];
		}
	}
	b->ctx_free = c->next_free;
	return c;
}

static void ctx_put(struct mqtt_bridge *b, struct pub_ctx *c)
{
	c->next_free = b->ctx_free;
	b->ctx_free = c;
}

static void drain(struct mqtt_bridge *b)
{
	struct hq_event *e = hq_take_all(&b->q);

	while (e) {
		struct hq_event *n = e->next;
		handle_event(b, e);
		if (e->borrowed) {
			if (((struct pub_ctx *)e)->client_gen == b->client_gen) {
				b->outstanding--;
				if (e->lazy)
					b->lazy_out--;
			}
			ctx_put(b, (struct pub_ctx *)e);
		} else {
			hq_event_free(e);
		}
		e = n;
	}
	if (!b->lazy_out) {
		uv_check_stop(&b->lazy_check);
		uv_timer_stop(&b->lazy_timer);
	}
	if (b->q.dropped != b->hq_dropped_seen) {
		size_t n = b->q.dropped - b->hq_dropped_seen;
		log_error("mqtt: %zu incoming messages dropped: the loop fell behind", n);
		/* those that no summary named are counted gateway-wide */
		if (n > b->hq_told && b->cbs.rx_dropped)
			b->cbs.rx_dropped(b->arg, NULL, n - b->hq_told, 0);
		b->hq_dropped_seen = b->q.dropped;
		b->hq_told = 0;
	}
}

static void on_wake(uv_async_t *a)
{
	drain(a->data);
}

static void on_lazy_check(uv_check_t *h)
{
	drain(h->data);
}

static void on_lazy_timer(uv_timer_t *t)
{
	drain(t->data);
}

/* A Paho client for b (loop thread). */
static int client_create(struct mqtt_bridge *b, MQTTAsync *out)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	int rc;

	co.sendWhileDisconnected = 0;   /* our own per-port queues keep order */
	co.maxBufferedMessages = PAHO_BUFFERED;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	rc = MQTTAsync_createWithOptions(out, b->uri.server, b->client_id,
					 MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS)
		return rc;
	rc = MQTTAsync_setCallbacks(*out, b, on_paho_lost, on_paho_message, NULL);
	if (rc != MQTTASYNC_SUCCESS)
		MQTTAsync_destroy(out);
	return rc;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int mqtt_bridge_new(uv_loop_t *loop, const struct mqtt_bridge_cfg *cfg,
		    const struct mqtt_bridge_cbs *cbs, void *arg,
		    struct mqtt_bridge **out, char *err, size_t errlen)
{
	struct mqtt_bridge *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return BRIDGE_ERR;
	b->loop = loop;
	b->uri = cfg->uri;
	b->client_id = strdup(cfg->client_id);
	b->will_topic = strdup(cfg->will_topic);
	b->ca_file = dup_or_null(cfg->ca_file);
	b->cert = dup_or_null(cfg->cert);
	b->key = dup_or_null(cfg->key);
	b->keepalive = cfg->keepalive;
	b->rx_hold_ms = cfg->rx_hold_ms;
	b->cbs = *cbs;
	b->arg = arg;
	b->backoff_ms = BACKOFF_MIN_MS;
	if (!b->client_id || !b->will_topic || (cfg->ca_file && !b->ca_file) ||
	    (cfg->cert && !b->cert) || (cfg->key && !b->key)) {
		snprintf(err, errlen, "out of memory setting up the MQTT client");
		goto fail_strings;
	}
	if (hq_init(&b->q, HQ_LIMIT) < 0) {
		snprintf(err, errlen, "cannot set up the MQTT hand-off queue");
		goto fail_strings;
	}
	rc = client_create(b, &b->client);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "cannot create the MQTT client for %s (%d)", b->uri.display, rc);
		goto fail_queue;
	}
	if (uv_async_init(loop, &b->wake, on_wake) < 0) {
		snprintf(err, errlen, "cannot set up the MQTT client's wake-up");
		MQTTAsync_destroy(&b->client);
		goto fail_queue;
	}
	b->wake.data = b;
	/* timers cannot fail to initialise on a live loop (libuv only sets
	 * fields), so after the async handle nothing is left to undo */
	uv_timer_init(loop, &b->retry);
	b->retry.data = b;
	uv_timer_init(loop, &b->disc_timer);
	b->disc_timer.data = b;
	uv_timer_init(loop, &b->lazy_timer);
	b->lazy_timer.data = b;
	uv_check_init(loop, &b->lazy_check);   /* like timers: only sets fields */
	b->lazy_check.data = b;
	*out = b;
	return BRIDGE_OK;
fail_queue:
	hq_destroy(&b->q);
fail_strings:
	free(b->client_id);
	free(b->will_topic);
	free(b->ca_file);
	free(b->cert);
	free(b->key);
	free(b);
	return BRIDGE_ERR;
}

void mqtt_bridge_start(struct mqtt_bridge *b)
{
	do_connect(b);
}

/* Once the disconnect has started nothing more is handed to Paho. Teardown
 * removes every port after the disconnect, and each removal published an
 * empty retained state: Paho refuses that once its session is closed, but
 * one handed over while it is still closing is queued and only freed by
 * MQTTAsync_destroy (valgrind saw a 1-byte read past a 16-byte block there). */
bool mqtt_bridge_connected(const struct mqtt_bridge *b)
{
	return b->connected && !b->stopping;
}

uint32_t mqtt_bridge_epoch(const struct mqtt_bridge *b)
{
	return b->epoch;
}

int mqtt_bridge_publish(struct mqtt_bridge *b, const char *topic, const void *p,
			size_t n, int qos, bool retained, uint64_t id)
{
	return mqtt_bridge_publish_ex(b, topic, p, n, qos, retained, id, false);
}

int mqtt_bridge_publish_ex(struct mqtt_bridge *b, const char *topic, const void *p,
			   size_t n, int qos, bool retained, uint64_t id, bool lazy)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct pub_ctx *c = NULL;
	int rc;

	if (!mqtt_bridge_connected(b))
		return BRIDGE_DOWN;
	/* every QoS 1/2 publish has a completion, even where the caller wants
	 * none (id 0): its failure tells whether Paho lost its topic */
	if (id || qos > 0) {
		if (!(c = ctx_get(b)))
			return BRIDGE_AGAIN;
		c->ev = (struct hq_event){ .type = HQ_PUB_DONE, .id = id, .epoch = b->epoch,
					   .borrowed = true, .lazy = lazy || !id };
		c->b = b;
		c->qos = qos;
		c->client_gen = b->client_gen;
		ro.onSuccess = on_paho_pub_ok;
		ro.onFailure = on_paho_pub_fail;
		ro.context = c;
	}
	rc = MQTTAsync_send(b->client, topic, (int)n, p, qos, retained, &ro);
	if (rc == MQTTASYNC_SUCCESS) {
		if (c)
			b->outstanding++;
		if (c && c->ev.lazy && b->lazy_out++ == 0) {
			uv_check_start(&b->lazy_check, on_lazy_check);
			uv_timer_start(&b->lazy_timer, on_lazy_timer, BRIDGE_LAZY_MS,
				       BRIDGE_LAZY_MS);
		}
		return BRIDGE_OK;
	}
	if (c)
		ctx_put(b, c);      /* Paho took nothing: no callback comes */
	if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES)
		return BRIDGE_AGAIN;
	if (rc == MQTTASYNC_DISCONNECTED)
		return BRIDGE_DOWN;
	log_debug("mqtt: publish on %s failed (%d)", topic, rc);
	return BRIDGE_ERR;
}

/* Remember which topic a token stands for, so a refusal can be told. The
 * list is bounded by the subscriptions in flight on this connection. */
static void sub_remember(struct mqtt_bridge *b, int token, const char *topic)
{
	char *t = strdup(topic);

	if (t && b->nsubs == b->subs_cap) {
		size_t n = b->subs_cap ? b->subs_cap * 2 : 32;
		struct sub_wait *s = realloc(b->subs, n * sizeof(*s));
		if (s) {
			b->subs = s;
			b->subs_cap = n;
		}
	}
	if (!t || b->nsubs == b->subs_cap) {
		free(t);
		log_warn("mqtt: out of memory: a refusal of %s would go unnoticed", topic);
		return;
	}
	b->subs[b->nsubs++] = (struct sub_wait){ token, t };
}

int mqtt_bridge_subscribe(struct mqtt_bridge *b, const char *topic, int qos)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc;

	if (!mqtt_bridge_connected(b))
		return BRIDGE_DOWN;
	ro.onSuccess = on_paho_sub_ok;
	ro.onFailure = on_paho_sub_fail;
	ro.context = b;
	rc = MQTTAsync_subscribe(b->client, topic, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		log_error("mqtt: cannot subscribe to %s (%d)", topic, rc);
		return BRIDGE_ERR;
	}
	sub_remember(b, ro.token, topic);
	return BRIDGE_OK;
}

int mqtt_bridge_unsubscribe(struct mqtt_bridge *b, const char *topic)
{
	if (!mqtt_bridge_connected(b))
		return BRIDGE_DOWN;
	return MQTTAsync_unsubscribe(b->client, topic, NULL) == MQTTASYNC_SUCCESS
	       ? BRIDGE_OK : BRIDGE_ERR;
}

static void on_disc_timeout(uv_timer_t *t)
{
	struct mqtt_bridge *b = t->data;

	if (b->disc_done) {
		void (*done)(void *) = b->disc_done;
		b->disc_done = NULL;
		done(b->disc_arg);
	}
}

void mqtt_bridge_disconnect(struct mqtt_bridge *b, int timeout_ms,
			    void (*done)(void *arg), void *arg)
{
	MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer;

	b->stopping = true;
	uv_timer_stop(&b->retry);
	b->disc_done = done;
	b->disc_arg = arg;
	if (!b->connected) {
		uv_timer_start(&b->disc_timer, on_disc_timeout, 0, 0);
		return;
	}
	o.timeout = timeout_ms;
	o.onSuccess = on_paho_disc;
	o.onFailure = on_paho_disc_fail;
	o.context = b;
	if (MQTTAsync_disconnect(b->client, &o) != MQTTASYNC_SUCCESS)
		timeout_ms = 0;
	uv_timer_start(&b->disc_timer, on_disc_timeout, (uint64_t)timeout_ms + 200, 0);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct mqtt_bridge *b = h->data;

	/* five handles share b: the last close callback frees it (libuv
	 * promises no order among them) */
	if (--b->closes_pending == 0) {
		/* the queue first: completions still in it live in the chunks */
		hq_destroy(&b->q);
		while (b->chunks) {
			struct pub_chunk *k = b->chunks;
			b->chunks = k->next;
			free(k);
		}
		subs_clear(b);
		free(b->subs);
		free(b->client_id);
		free(b->will_topic);
		free(b->ca_file);
		free(b->cert);
		free(b->key);
		free(b);
	}
}

void mqtt_bridge_free(struct mqtt_bridge *b)
{
	b->stopping = true;
	/* after destroy no Paho callback runs; contexts of publishes it never
	 * answered are freed with b (they live in its chunks). A poisoned
	 * client is not destroyed either: that would free the lost topic
	 * again (it is disconnected, so no callback of it comes). */
	if (!b->poisoned)
		MQTTAsync_destroy(&b->client);
	b->closes_pending = 5;
	uv_close((uv_handle_t *)&b->lazy_check, on_handle_closed);
	uv_close((uv_handle_t *)&b->lazy_timer, on_handle_closed);
	uv_close((uv_handle_t *)&b->wake, on_handle_closed);
	uv_close((uv_handle_t *)&b->retry, on_handle_closed);
	uv_close((uv_handle_t *)&b->disc_timer, on_handle_closed);
}
