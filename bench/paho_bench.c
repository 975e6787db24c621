/* paho_bench — the bare Paho MQTTAsync baseline for bench/run.
 *
 *   paho_bench lat  --broker URI --qos Q [--size 64] [--count N] [--warmup N]
 *                   [--samples FILE] [--topic T]
 *       one client publishes SIZE bytes to a topic it subscribes itself and
 *       waits for them to come back; one sample per round trip, from just
 *       before MQTTAsync_send to the arrival callback.
 *   paho_bench tput --broker URI --qos Q [--size 1024] [--seconds S]
 *                   [--window W] [--topic T]
 *       one client publishes SIZE-byte messages as fast as it can with at
 *       most W unfinished sends (the gateway hands Paho 64 per port); a second
 *       client subscribed at the same QoS counts them. MB/s = bytes received
 *       / (last arrival - first send), MB = 10^6 bytes.
 *
 *   paho_bench pace --broker URI --qos Q [--size 115] [--window BURST]
 *                   [--seconds S]
 *       BURST messages every 10 ms, nobody subscribed: the CPU (per thread)
 *       a bare client spends for the message rate of the gateway's 100
 *       active ports (the main thread is where the gateway's loop would be).
 *
 * Prints one JSON line on stdout. MQTT 3.1.1, TCP_NODELAY as the gateway. */
#include "bench_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *mode, *broker, *topic, *samples;
	int qos, size, count, warmup, window;
	double seconds;
};

/* ---- latency ------------------------------------------------------------ */

struct lat {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t recv, target, t_done;
	bool done;
};

static void lat_on_msg(void *arg, const char *topic, const void *p, size_t n)
{
	struct lat *l = arg;
	uint64_t t = bench_now_ns();

	pthread_mutex_lock(&l->mu);
	l->recv += n;
	if (!l->done && l->recv >= l->target) {
		l->done = true;
		l->t_done = t;
		pthread_cond_signal(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
}

static int run_lat(const struct opts *o)
{
	struct lat l = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct bench_client bc;
	struct samples s = { 0 };
	uint8_t *payload = malloc((size_t)o->size);
	char id[64];

	bench_cond_init(&l.cv);
	snprintf(id, sizeof(id), "paho-bench-lat-%d", (int)getpid());
	bench_client_connect(&bc, o->broker, id, 65536, lat_on_msg, &l);
	bench_client_subscribe(&bc, o->topic, o->qos);
	for (int i = 0; i < o->size; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < o->warmup + o->count; i++) {
		uint64_t t0;
		int rc;

		pthread_mutex_lock(&l.mu);
		l.target = l.recv + (uint64_t)o->size;
		l.done = false;
		pthread_mutex_unlock(&l.mu);
		memcpy(payload, &i, sizeof(i));
		t0 = bench_now_ns();
		rc = MQTTAsync_send(bc.c, o->topic, o->size, payload, o->qos, 0, NULL);
		if (rc != MQTTASYNC_SUCCESS)
			bench_die("MQTTAsync_send: %d", rc);
		pthread_mutex_lock(&l.mu);
		if (bench_cond_wait_flag(&l.mu, &l.cv, &l.done, 5000) < 0)
			bench_die("round trip %d: nothing came back within 5 s", i);
		if (i >= o->warmup)
			samples_add(&s, l.t_done - t0);
		pthread_mutex_unlock(&l.mu);
	}
	samples_write(&s, o->samples);
	printf("{\"mode\":\"lat\",\"qos\":%d,\"size\":%d,\"n\":%zu,\"p50_us\":%.3f,"
	       "\"p99_us\":%.3f,\"max_us\":%.3f}\n", o->qos, o->size, s.n,
	       samples_quantile(&s, 0.50) / 1e3, samples_quantile(&s, 0.99) / 1e3,
	       samples_quantile(&s, 1.0) / 1e3);
	fflush(stdout);
	bench_client_close(&bc);
	return 0;
}

/* ---- throughput ----------------------------------------------------------- */

struct tput {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int inflight;
	uint64_t failed;
	/* subscriber side, written by its receive thread */
	uint64_t recv_bytes, recv_msgs, t_first_recv, t_last_recv;
};

static void tput_on_msg(void *arg, const char *topic, const void *p, size_t n)
{
	struct tput *t = arg;
	uint64_t now = bench_now_ns();

	pthread_mutex_lock(&t->mu);
	if (!t->recv_msgs)
		t->t_first_recv = now;
	t->t_last_recv = now;
	t->recv_bytes += n;
	t->recv_msgs++;
	pthread_mutex_unlock(&t->mu);
}

static void tput_sent(struct tput *t, bool ok)
{
	pthread_mutex_lock(&t->mu);
	t->inflight--;
	if (!ok)
		t->failed++;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static void on_pub_ok(void *ctx, MQTTAsync_successData *r)
{
	tput_sent(ctx, true);
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData *r)
{
	tput_sent(ctx, false);
}

static uint64_t locked_read(pthread_mutex_t *mu, const uint64_t *v)
{
	pthread_mutex_lock(mu);
	uint64_t x = *v;
	pthread_mutex_unlock(mu);
	return x;
}

static int run_tput(const struct opts *o)
{
	struct tput t = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct bench_client pub, sub;
	uint8_t *payload = malloc((size_t)o->size);
	uint64_t sent_bytes = 0, sent_msgs = 0, t_first_send, t_end, last_recv, stall_since;
	char id[64];

	bench_cond_init(&t.cv);
	for (int i = 0; i < o->size; i++)
		payload[i] = (uint8_t)(i % 251);
	snprintf(id, sizeof(id), "paho-bench-sub-%d", (int)getpid());
	bench_client_connect(&sub, o->broker, id, 100, tput_on_msg, &t);
	bench_client_subscribe(&sub, o->topic, o->qos);
	snprintf(id, sizeof(id), "paho-bench-pub-%d", (int)getpid());
	bench_client_connect(&pub, o->broker, id, 65536, NULL, NULL);

	t_first_send = bench_now_ns();
	t_end = t_first_send + (uint64_t)(o->seconds * 1e9);
	while (bench_now_ns() < t_end) {
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		int rc;

		pthread_mutex_lock(&t.mu);
		while (t.inflight >= o->window)
			bench_cond_wait_ms(&t.mu, &t.cv, 10);
		t.inflight++;
		pthread_mutex_unlock(&t.mu);
		ro.onSuccess = on_pub_ok;
		ro.onFailure = on_pub_fail;
		ro.context = &t;
		rc = MQTTAsync_send(pub.c, o->topic, o->size, payload, o->qos, 0, &ro);
		if (rc != MQTTASYNC_SUCCESS) {
			tput_sent(&t, true);
			if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES) {
				bench_sleep_ns(100000);
				continue;
			}
			bench_die("MQTTAsync_send: %d", rc);
		}
		sent_bytes += (uint64_t)o->size;
		sent_msgs++;
	}
	/* let the sends finish, then the subscriber catch up (stop when it has
	 * everything, or after 1 s without progress) */
	for (int i = 0; i < 10000; i++) {
		pthread_mutex_lock(&t.mu);
		int inflight = t.inflight;
		pthread_mutex_unlock(&t.mu);
		if (!inflight)
			break;
		bench_sleep_ns(1000000);
	}
	last_recv = locked_read(&t.mu, &t.recv_bytes);
	stall_since = bench_now_ns();
	for (int i = 0; i < 15000; i++) {
		uint64_t r = locked_read(&t.mu, &t.recv_bytes);
		if (r >= sent_bytes)
			break;
		if (r != last_recv) {
			last_recv = r;
			stall_since = bench_now_ns();
		} else if (bench_now_ns() - stall_since > 1000000000u) {
			break;
		}
		bench_sleep_ns(1000000);
	}
	pthread_mutex_lock(&t.mu);
	double secs = (double)(t.t_last_recv - t_first_send) / 1e9;
	printf("{\"mode\":\"tput\",\"qos\":%d,\"size\":%d,\"window\":%d,\"sent_bytes\":%llu,"
	       "\"sent_msgs\":%llu,\"recv_bytes\":%llu,\"recv_msgs\":%llu,\"failed\":%llu,"
	       "\"seconds\":%.6f,\"mbps\":%.3f}\n", o->qos, o->size, o->window,
	       (unsigned long long)sent_bytes, (unsigned long long)sent_msgs,
	       (unsigned long long)t.recv_bytes, (unsigned long long)t.recv_msgs,
	       (unsigned long long)t.failed, secs,
	       secs > 0 ? (double)t.recv_bytes / secs / 1e6 : 0.0);
	fflush(stdout);
	pthread_mutex_unlock(&t.mu);
	bench_client_close(&pub);
	bench_client_close(&sub);
	return 0;
}

/* ---- pace ------------------------------------------------------------------- */

/* The CPU a bare client needs for a message rate: BURST messages every
 * TICK ms (the gateway's 100 active ports each publish one per tick), no
 * subscriber. Reports this process's CPU per thread. */
static int run_pace(const struct opts *o, int burst, int tick_ms)
{
	struct tput t = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct bench_client pub;
	struct task_cpu a[64], b[64];
	uint8_t *payload = calloc(1, (size_t)o->size);
	uint64_t sent = 0, t0, ticks = (uint64_t)(o->seconds * 1000 / tick_ms);
	size_t na, nb;
	char id[64];

	bench_cond_init(&t.cv);
	snprintf(id, sizeof(id), "paho-bench-pace-%d", (int)getpid());
	bench_client_connect(&pub, o->broker, id, 65536, NULL, NULL);
	bench_sleep_ns(200 * 1000000u);
	na = proc_tasks(getpid(), a, 64);
	t0 = bench_now_ns();
	for (uint64_t k = 1; k <= ticks; k++) {
		for (int i = 0; i < burst; i++) {
			MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
			pthread_mutex_lock(&t.mu);
			t.inflight++;
			pthread_mutex_unlock(&t.mu);
			ro.onSuccess = on_pub_ok;
			ro.onFailure = on_pub_fail;
			ro.context = &t;
			if (MQTTAsync_send(pub.c, o->topic, o->size, payload, o->qos, 0, &ro) !=
			    MQTTASYNC_SUCCESS) {
				tput_sent(&t, false);
				continue;
			}
			sent++;
		}
		uint64_t next = t0 + k * (uint64_t)tick_ms * 1000000u;
		struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	double wall = (double)(bench_now_ns() - t0) / 1e9;
	nb = proc_tasks(getpid(), b, 64);
	pthread_mutex_lock(&t.mu);
	printf("{\"mode\":\"pace\",\"qos\":%d,\"size\":%d,\"burst\":%d,\"tick_ms\":%d,"
	       "\"sent\":%llu,\"failed\":%llu,\"msg_per_s\":%.1f,\"cpu\":", o->qos, o->size,
	       burst, tick_ms, (unsigned long long)sent, (unsigned long long)t.failed,
	       (double)sent / wall);
	pthread_mutex_unlock(&t.mu);
	proc_tasks_diff_json(stdout, a, na, b, nb, getpid(), wall);
	printf("}\n");
	fflush(stdout);
	bench_client_close(&pub);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: paho_bench lat|tput --broker URI --qos 0|1 [--size N] "
		"[--count N] [--warmup N] [--samples FILE] [--seconds S] [--window W] "
		"[--topic T]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .topic = NULL, .qos = 1, .size = 0, .count = 2000, .warmup = 200,
			  .window = 64, .seconds = 3 };
	char topic[128];

	if (argc < 2)
		usage();
	o.mode = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (!strcmp(a, "--broker")) o.broker = v;
		else if (!strcmp(a, "--topic")) o.topic = v;
		else if (!strcmp(a, "--samples")) o.samples = v;
		else if (!strcmp(a, "--qos")) o.qos = atoi(v);
		else if (!strcmp(a, "--size")) o.size = atoi(v);
		else if (!strcmp(a, "--count")) o.count = atoi(v);
		else if (!strcmp(a, "--warmup")) o.warmup = atoi(v);
		else if (!strcmp(a, "--window")) o.window = atoi(v);
		else if (!strcmp(a, "--seconds")) o.seconds = atof(v);
		else usage();
		i++;
	}
	if (!o.broker || (o.qos != 0 && o.qos != 1) || o.window < 1 || o.count < 1)
		usage();
	if (!o.topic) {
		snprintf(topic, sizeof(topic), "bench/paho/%d/%s", (int)getpid(), o.mode);
		o.topic = topic;
	}
	if (!strcmp(o.mode, "lat")) {
		if (!o.size)
			o.size = 64;
		return run_lat(&o);
	}
	if (!strcmp(o.mode, "pace")) {
		if (!o.size)
			o.size = 115;
		return run_pace(&o, o.window, 10);
	}
	if (!strcmp(o.mode, "tput")) {
		if (!o.size)
			o.size = 1024;
		return run_tput(&o);
	}
	usage();
}
