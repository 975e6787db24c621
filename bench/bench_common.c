/* bench_common — see bench_common.h. */
#include "bench_common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

void bench_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

static void deadline_ms(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int bench_cond_wait_flag(pthread_mutex_t *mu, pthread_cond_t *cv, const bool *flag, int ms)
{
	struct timespec ts;

	deadline_ms(&ts, ms);
	while (!*flag)
		if (pthread_cond_timedwait(cv, mu, &ts) != 0)
			return *flag ? 0 : -1;
	return 0;
}

void bench_cond_wait_ms(pthread_mutex_t *mu, pthread_cond_t *cv, int ms)
{
	struct timespec ts;

	deadline_ms(&ts, ms);
	pthread_cond_timedwait(cv, mu, &ts);
}

/* ---- samples ---------------------------------------------------------- */

void samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			bench_die("out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t samples_quantile(struct samples *s, double q)
{
	size_t i;

	if (!s->n)
		return 0;
	uint64_t *sorted = malloc(s->n * sizeof(*sorted));
	if (!sorted)
		bench_die("out of memory");
	memcpy(sorted, s->v, s->n * sizeof(*sorted));
	qsort(sorted, s->n, sizeof(*sorted), cmp_u64);
	/* nearest rank: the smallest value with at least q of the samples <= it */
	i = (size_t)(q * (double)s->n + 0.999999);
	i = i ? i - 1 : 0;
	if (i >= s->n)
		i = s->n - 1;
	uint64_t v = sorted[i];
	free(sorted);
	return v;
}

void samples_write(const struct samples *s, const char *path)
{
	FILE *f;

	if (!path)
		return;
	if (!(f = fopen(path, "w")))
		bench_die("cannot write %s: %s", path, strerror(errno));
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%.3f\n", (double)s->v[i] / 1000.0);
	fclose(f);
}

/* ---- Paho ------------------------------------------------------------- */

/* The same trick as the gateway: Paho never sets TCP_NODELAY, so find the
 * TCP sockets connected to the broker's port and set it. */
static void set_nodelay_all(int broker_port)
{
	struct rlimit rl;
	int max = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536)
		max = (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss), tl;
		int type, one = 1;

		tl = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
			continue;
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 || ss.ss_family != AF_INET)
			continue;
		if (ntohs(((struct sockaddr_in *)&ss)->sin_port) == broker_port)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

static int on_arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct bench_client *bc = ctx;

	if (bc->on_msg)
		bc->on_msg(bc->arg, topic, m->payload, (size_t)m->payloadlen);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_lost(void *ctx, char *cause)
{
	if (__atomic_load_n(&((struct bench_client *)ctx)->closing, __ATOMIC_ACQUIRE))
		return;
	fprintf(stderr, "bench: connection to the broker lost\n");
	exit(1);
}

static void on_conn_ok(void *ctx, MQTTAsync_successData *r)
{
	struct bench_client *bc = ctx;

	set_nodelay_all(bc->broker_port);
	__atomic_store_n(&bc->state, 1, __ATOMIC_RELEASE);
}

static void on_conn_fail(void *ctx, MQTTAsync_failureData *r)
{
	struct bench_client *bc = ctx;

	__atomic_store_n(&bc->state, -1, __ATOMIC_RELEASE);
}

static int wait_state(volatile int *st, int ms)
{
	for (int i = 0; i < ms; i++) {
		int v = __atomic_load_n(st, __ATOMIC_ACQUIRE);
		if (v)
			return v;
		bench_sleep_ns(1000000);
	}
	return 0;
}

void bench_client_connect(struct bench_client *bc, const char *uri, const char *id,
			  int max_buffered, bench_msg_fn on_msg, void *arg)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	const char *colon = strrchr(uri, ':');
	int rc;

	memset(bc, 0, sizeof(*bc));
	bc->on_msg = on_msg;
	bc->arg = arg;
	bc->broker_port = colon ? atoi(colon + 1) : 1883;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.maxBufferedMessages = max_buffered > 0 ? max_buffered : 100;
	rc = MQTTAsync_createWithOptions(&bc->c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS)
		bench_die("MQTTAsync_create %s: %d", uri, rc);
	MQTTAsync_setCallbacks(bc->c, bc, on_lost, on_arrived, NULL);
	o.keepAliveInterval = 30;
	o.cleansession = 1;
	o.MQTTVersion = MQTTVERSION_3_1_1;
	o.maxInflight = 65535;
	o.onSuccess = on_conn_ok;
	o.onFailure = on_conn_fail;
	o.context = bc;
	if ((rc = MQTTAsync_connect(bc->c, &o)) != MQTTASYNC_SUCCESS)
		bench_die("MQTTAsync_connect %s: %d", uri, rc);
	if (wait_state(&bc->state, 10000) != 1)
		bench_die("cannot connect to %s", uri);
}

struct sub_wait {
	volatile int state;
};

static void on_sub_ok(void *ctx, MQTTAsync_successData *r)
{
	__atomic_store_n(&((struct sub_wait *)ctx)->state, 1, __ATOMIC_RELEASE);
}

static void on_sub_fail(void *ctx, MQTTAsync_failureData *r)
{
	__atomic_store_n(&((struct sub_wait *)ctx)->state, -1, __ATOMIC_RELEASE);
}

void bench_client_subscribe(struct bench_client *bc, const char *topic, int qos)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct sub_wait w = { 0 };
	int rc;

	ro.onSuccess = on_sub_ok;
	ro.onFailure = on_sub_fail;
	ro.context = &w;
	if ((rc = MQTTAsync_subscribe(bc->c, topic, qos, &ro)) != MQTTASYNC_SUCCESS)
		bench_die("subscribe %s: %d", topic, rc);
	if (wait_state(&w.state, 10000) != 1)
		bench_die("subscribe %s: no SUBACK", topic);
}

void bench_client_close(struct bench_client *bc)
{
	MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer;

	o.timeout = 1000;
	__atomic_store_n(&bc->closing, 1, __ATOMIC_RELEASE);
	MQTTAsync_disconnect(bc->c, &o);
	bench_sleep_ns(20 * 1000000u);
	MQTTAsync_destroy(&bc->c);
}

/* ---- /proc ------------------------------------------------------------ */

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

static uint64_t status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

size_t proc_tasks(pid_t pid, struct task_cpu *out, size_t max)
{
	char path[128], buf[4096];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d)) && n < max) {
		struct task_cpu *t = &out[n];
		char *p;

		if (de->d_name[0] == '.')
			continue;
		memset(t, 0, sizeof(*t));
		t->tid = (pid_t)atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)t->tid);
		if (read_file(path, buf, sizeof(buf)) == 0) {
			t->cpu_ns = strtoull(buf, NULL, 10);
		} else {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)t->tid);
			if (read_file(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
				continue;
			unsigned long ut = 0, st = 0;
			/* fields after ")": state(3) ... utime(14) stime(15) */
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
			t->cpu_ns = (uint64_t)(ut + st) * (1000000000u / (uint64_t)sysconf(_SC_CLK_TCK));
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)t->tid);
		if (read_file(path, t->comm, sizeof(t->comm)) == 0)
			t->comm[strcspn(t->comm, "\n")] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)t->tid);
		if (read_file(path, buf, sizeof(buf)) == 0)
			t->ctxsw = status_field(buf, "\nvoluntary_ctxt_switches:") +
				   status_field(buf, "\nnonvoluntary_ctxt_switches:");
		n++;
	}
	closedir(d);
	return n;
}

void proc_tasks_diff_json(FILE *f, const struct task_cpu *a, size_t na,
			  const struct task_cpu *b, size_t nb, pid_t pid, double wall_s)
{
	uint64_t total = 0;
	bool first = true;

	for (size_t i = 0; i < nb; i++) {
		uint64_t base = 0;
		for (size_t j = 0; j < na; j++)
			if (a[j].tid == b[i].tid)
				base = a[j].cpu_ns;
		total += b[i].cpu_ns - base;
	}
	fprintf(f, "{\"wall_s\":%.6f,\"total_cpu_s\":%.6f,\"threads\":[", wall_s, (double)total / 1e9);
	for (size_t i = 0; i < nb; i++) {
		uint64_t base = 0, sw = 0;
		for (size_t j = 0; j < na; j++)
			if (a[j].tid == b[i].tid) {
				base = a[j].cpu_ns;
				sw = a[j].ctxsw;
			}
		fprintf(f, "%s{\"tid\":%d,\"loop\":%s,\"comm\":\"%s\",\"cpu_s\":%.6f,\"ctxsw\":%llu}",
			first ? "" : ",", (int)b[i].tid, b[i].tid == pid ? "true" : "false",
			b[i].comm, (double)(b[i].cpu_ns - base) / 1e9,
			(unsigned long long)(b[i].ctxsw - sw));
		first = false;
	}
	fprintf(f, "]}");
}
