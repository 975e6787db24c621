/* pty_bench — the application side of bench/run.
 *
 * It opens a port's link the way a serial application does (O_NOCTTY,
 * termios raw) and talks to "the far side", which is either MQTT (a Paho
 * client on the port's tx/rx topics, MQTT 3.1.1, TCP_NODELAY) or a TCP
 * connection it accepts itself (the sink for socat).
 *
 *   pty_bench lat  --link PATH FAR --dir tx|rx [--size 64] [--count N]
 *                  [--warmup N] [--samples FILE]
 *       tx: write() on the port -> the far side has every byte;
 *       rx: far side sends -> every byte readable from the port.
 *   pty_bench tput --link PATH FAR [--seconds S] [--chunk 1024] [--pid P]
 *       the application writes CHUNK-byte writes for S seconds; MB/s =
 *       bytes the far side got / (its last arrival - first write).
 *   pty_bench ptyraw [--seconds S] [--chunk 1024]
 *       the pty layer alone: a thread writes the slave, the reader drains
 *       the master in packet mode with poll + nonblocking reads like the
 *       gateway does.
 *   pty_bench ptylat --dir tx|rx [--size 64] [--count N] [--warmup N]
 *       the pty layer's latency alone: the main thread writes the slave (tx)
 *       or the master (rx); a thread blocked in poll() on the other end has
 *       every byte (one wake-up, like the gateway's loop or the application).
 *   pty_bench multi --link-dir D --name-prefix P --n N FAR [--rate B/s]
 *                   [--seconds S] [--tick-ms T] [--pid P]
 *       N ports named P0000.. each written at RATE bytes/s in ticks of T ms;
 *       counts what the far side (a subscription to P+/tx) got per port.
 *
 * FAR is --mqtt URI --tx-topic T --rx-topic T --qos Q, or --tcp-listen PORT
 * (prints {"listening":PORT} once listening, then accepts one connection).
 * --pid P: also report P's CPU per thread over the measured window.
 * Prints one JSON line on stdout at the end. */
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_TASKS 64

struct opts {
	const char *mode, *link, *mqtt, *tx_topic, *rx_topic, *dir, *samples;
	const char *link_dir, *name_prefix;
	int qos, size, count, warmup, chunk, tcp_port, n, tick_ms;
	double seconds, rate;
	pid_t pid;
};

/* ---- the far side ---------------------------------------------------------- */

struct far {
	bool tcp;
	struct bench_client bc;
	const char *tx_topic, *rx_topic;
	int qos;
	int lfd, fd;
	pthread_t reader;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t recv, target, t_done, msgs, t_first, t_last;
	uint64_t bad;           /* bytes not where the stream says they should be */
	bool done, verify;
	/* multi: per-port counters, found by the name in the topic */
	uint64_t *port_recv;
	int nports;
	size_t prefix_len;      /* of "PREFIX/ID/NAME_PREFIX" in the topic */
};

static uint8_t pattern_at(uint64_t off)
{
	return (uint8_t)(off % 251);
}

static void far_got(struct far *f, const char *topic, const uint8_t *p, size_t n)
{
	uint64_t t = bench_now_ns();

	pthread_mutex_lock(&f->mu);
	if (f->verify && n && (p[0] != pattern_at(f->recv) || p[n - 1] != pattern_at(f->recv + n - 1)))
		f->bad += n;
	if (f->port_recv && topic) {
		int idx = atoi(topic + f->prefix_len);
		if (idx >= 0 && idx < f->nports)
			f->port_recv[idx] += n;
	}
	if (!f->msgs)
		f->t_first = t;
	f->t_last = t;
	f->msgs++;
	f->recv += n;
	if (!f->done && f->recv >= f->target) {
		f->done = true;
		f->t_done = t;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
}

static void far_on_msg(void *arg, const char *topic, const void *p, size_t n)
{
	far_got(arg, topic, p, n);
}

static void *far_tcp_reader(void *arg)
{
	struct far *f = arg;
	uint8_t buf[65536];

	for (;;) {
		ssize_t n = read(f->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		far_got(f, NULL, buf, (size_t)n);
	}
}

static void far_listen(struct far *f, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t al = sizeof(a);
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->tcp = true;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(f->lfd, 1) < 0)
		bench_die("listen on 127.0.0.1:%d: %s", port, strerror(errno));
	getsockname(f->lfd, (struct sockaddr *)&a, &al);
	printf("{\"listening\":%d}\n", ntohs(a.sin_port));
	fflush(stdout);
}

static void far_accept(struct far *f)
{
	struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };
	int one = 1;

	if (poll(&pfd, 1, 10000) != 1)
		bench_die("no TCP connection within 10 s");
	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (f->fd < 0)
		bench_die("accept: %s", strerror(errno));
	setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_create(&f->reader, NULL, far_tcp_reader, f);
}

static void far_init(struct far *f, const struct opts *o, bool subscribe_tx)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	bench_cond_init(&f->cv);
	f->fd = f->lfd = -1;
	f->qos = o->qos;
	f->tx_topic = o->tx_topic;
	f->rx_topic = o->rx_topic;
	if (o->tcp_port >= 0) {
		far_listen(f, o->tcp_port);
	} else if (o->mqtt) {
		char id[64];
		snprintf(id, sizeof(id), "pty-bench-%d", (int)getpid());
		bench_client_connect(&f->bc, o->mqtt, id, 65536, far_on_msg, f);
		if (subscribe_tx && f->tx_topic)
			bench_client_subscribe(&f->bc, f->tx_topic, o->qos);
	} else {
		bench_die("give --mqtt URI or --tcp-listen PORT");
	}
}

static void far_send(struct far *f, const uint8_t *p, size_t n)
{
	if (f->tcp) {
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(f->fd, p + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				bench_die("write to the TCP peer: %s", strerror(errno));
			done += (size_t)w;
		}
		return;
	}
	int rc = MQTTAsync_send(f->bc.c, f->rx_topic, (int)n, p, f->qos, 0, NULL);
	if (rc != MQTTASYNC_SUCCESS)
		bench_die("MQTTAsync_send %s: %d", f->rx_topic, rc);
}

static void far_close(struct far *f)
{
	if (f->tcp) {
		if (f->fd >= 0) {
			shutdown(f->fd, SHUT_RDWR);
			pthread_join(f->reader, NULL);
			close(f->fd);
		}
		close(f->lfd);
	} else {
		bench_client_close(&f->bc);
	}
}

static uint64_t far_recv(struct far *f)
{
	pthread_mutex_lock(&f->mu);
	uint64_t r = f->recv;
	pthread_mutex_unlock(&f->mu);
	return r;
}

/* Wait until the far side has `want` bytes, or `stall_ms` without progress. */
static void far_wait_for(struct far *f, uint64_t want, int stall_ms, int max_ms)
{
	uint64_t last = far_recv(f), since = bench_now_ns(), start = since;

	while (bench_now_ns() - start < (uint64_t)max_ms * 1000000u) {
		uint64_t r = far_recv(f);
		if (r >= want)
			return;
		if (r != last) {
			last = r;
			since = bench_now_ns();
		} else if (bench_now_ns() - since > (uint64_t)stall_ms * 1000000u) {
			return;
		}
		bench_sleep_ns(1000000);
	}
}

/* ---- the application side --------------------------------------------------- */

static int app_open(const char *link)
{
	struct termios t;
	int fd = -1;

	for (int i = 0; i < 1000 && fd < 0; i++) {   /* the link may appear late */
		fd = open(link, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			bench_sleep_ns(10 * 1000000u);
	}
	if (fd < 0)
		bench_die("open %s: %s", link, strerror(errno));
	if (tcgetattr(fd, &t) < 0)
		bench_die("%s is not a tty: %s", link, strerror(errno));
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		bench_die("tcsetattr %s: %s", link, strerror(errno));
	return fd;
}

/* Write all n bytes (the fd is nonblocking: wait for room, bounded). */
static void write_all(int fd, const uint8_t *p, size_t n, int timeout_ms)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			if (poll(&pfd, 1, timeout_ms) != 1)
				bench_die("write blocked for %d ms", timeout_ms);
			continue;
		}
		if (w < 0)
			bench_die("write: %s", strerror(errno));
		done += (size_t)w;
	}
}

/* Read exactly n bytes; -1 on timeout. */
static int read_n(int fd, uint8_t *p, size_t n, int timeout_ms)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, p + done, n - done);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			bench_die("read: %s", strerror(errno));
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, timeout_ms) != 1)
			return -1;
	}
	return 0;
}

static void drain(int fd, int quiet_ms)
{
	uint8_t buf[4096];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (poll(&pfd, 1, quiet_ms) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- lat ------------------------------------------------------------------- */

static int run_lat(const struct opts *o)
{
	struct far f;
	struct samples s = { 0 };
	uint8_t *payload = malloc((size_t)o->size), *in = malloc((size_t)o->size);
	bool tx = !strcmp(o->dir, "tx");
	int fd;

	if (!tx && strcmp(o->dir, "rx"))
		bench_die("--dir is tx or rx");
	far_init(&f, o, true);
	if (f.tcp)
		far_accept(&f);
	fd = app_open(o->link);
	for (int i = 0; i < o->size; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	if (!tx) {
		/* the gateway learns of our open asynchronously and drops rx
		 * while it thinks nobody listens: probe until bytes come */
		bool ok = false;
		for (int i = 0; i < 50 && !ok; i++) {
			far_send(&f, payload, (size_t)o->size);
			ok = read_n(fd, in, 1, 200) == 0;
		}
		if (!ok)
			bench_die("rx: nothing reached %s", o->link);
		drain(fd, 300);
	}
	for (int i = 0; i < o->warmup + o->count; i++) {
		uint64_t t0, t1;

		memcpy(payload, &i, sizeof(i));
		if (tx) {
			pthread_mutex_lock(&f.mu);
			f.target = f.recv + (uint64_t)o->size;
			f.done = false;
			pthread_mutex_unlock(&f.mu);
			t0 = bench_now_ns();
			write_all(fd, payload, (size_t)o->size, 5000);
			pthread_mutex_lock(&f.mu);
			if (bench_cond_wait_flag(&f.mu, &f.cv, &f.done, 5000) < 0)
				bench_die("tx %d: the far side did not get %d bytes within 5 s", i, o->size);
			t1 = f.t_done;
			pthread_mutex_unlock(&f.mu);
		} else {
			t0 = bench_now_ns();
			far_send(&f, payload, (size_t)o->size);
			if (read_n(fd, in, (size_t)o->size, 5000) < 0)
				bench_die("rx %d: %d bytes not readable within 5 s", i, o->size);
			t1 = bench_now_ns();
			if (memcmp(in, payload, (size_t)o->size) != 0)
				bench_die("rx %d: bytes differ", i);
		}
		if (i >= o->warmup)
			samples_add(&s, t1 - t0);
	}
	samples_write(&s, o->samples);
	printf("{\"mode\":\"lat\",\"dir\":\"%s\",\"qos\":%d,\"size\":%d,\"n\":%zu,"
	       "\"p50_us\":%.3f,\"p99_us\":%.3f,\"max_us\":%.3f}\n", o->dir, o->qos, o->size,
	       s.n, samples_quantile(&s, 0.50) / 1e3, samples_quantile(&s, 0.99) / 1e3,
	       samples_quantile(&s, 1.0) / 1e3);
	fflush(stdout);
	close(fd);
	far_close(&f);
	return 0;
}

/* ---- tput ------------------------------------------------------------------ */

static void print_cpu(pid_t pid, const struct task_cpu *a, size_t na, double wall_s)
{
	struct task_cpu b[MAX_TASKS];
	size_t nb;

	if (!pid)
		return;
	nb = proc_tasks(pid, b, MAX_TASKS);
	printf(",\"cpu\":");
	proc_tasks_diff_json(stdout, a, na, b, nb, pid, wall_s);
}

static int run_tput(const struct opts *o)
{
	struct far f;
	struct task_cpu cpu0[MAX_TASKS];
	size_t ncpu0 = 0;
	uint8_t *buf = malloc((size_t)o->chunk + 251);
	uint64_t written = 0, t_first, t_end, t_stop;
	int fd;

	for (int i = 0; i < o->chunk + 251; i++)
		buf[i] = pattern_at((uint64_t)i);
	far_init(&f, o, true);
	if (f.tcp)
		far_accept(&f);
	f.verify = true;
	fd = app_open(o->link);
	bench_sleep_ns(100 * 1000000u);     /* let the open and tcsetattr settle */
	if (o->pid)
		ncpu0 = proc_tasks(o->pid, cpu0, MAX_TASKS);
	t_first = bench_now_ns();
	t_end = t_first + (uint64_t)(o->seconds * 1e9);
	while (bench_now_ns() < t_end) {
		/* keep the byte stream a pattern so the far side can check it */
		const uint8_t *p = buf + written % 251;
		ssize_t w = write(fd, p, (size_t)o->chunk);
		if (w > 0) {
			written += (uint64_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			bench_die("write: %s", strerror(errno));
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		poll(&pfd, 1, 100);
	}
	t_stop = bench_now_ns();
	far_wait_for(&f, written, 2000, 20000);
	pthread_mutex_lock(&f.mu);
	double secs = (double)(f.t_last - t_first) / 1e9;
	printf("{\"mode\":\"tput\",\"qos\":%d,\"chunk\":%d,\"written\":%llu,\"recv\":%llu,"
	       "\"msgs\":%llu,\"bad\":%llu,\"seconds\":%.6f,\"mbps\":%.3f,\"write_s\":%.6f",
	       o->qos, o->chunk, (unsigned long long)written, (unsigned long long)f.recv,
	       (unsigned long long)f.msgs, (unsigned long long)f.bad, secs,
	       secs > 0 ? (double)f.recv / secs / 1e6 : 0.0, (double)(t_stop - t_first) / 1e9);
	pthread_mutex_unlock(&f.mu);
	print_cpu(o->pid, cpu0, ncpu0, (double)(bench_now_ns() - t_first) / 1e9);
	printf("}\n");
	fflush(stdout);
	close(fd);
	far_close(&f);
	return 0;
}

/* ---- ptyraw ---------------------------------------------------------------- */

struct raw_writer {
	int fd, chunk;
	uint64_t end_ns, written;
};

static void *raw_write_thread(void *arg)
{
	struct raw_writer *w = arg;
	uint8_t *buf = calloc(1, (size_t)w->chunk);

	while (bench_now_ns() < w->end_ns) {
		ssize_t n = write(w->fd, buf, (size_t)w->chunk);
		if (n > 0)
			w->written += (uint64_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	free(buf);
	return NULL;
}

static int run_ptyraw(const struct opts *o)
{
	struct raw_writer w = { .chunk = o->chunk };
	struct termios t;
	pthread_t th;
	uint8_t buf[4096 + 1];
	uint64_t got = 0, t0, t_last = 0;
	char slave[64];
	int one = 1, m;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, sizeof(slave)))
		bench_die("cannot make a pty: %s", strerror(errno));
	ioctl(m, TIOCPKT, &one);
	w.fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (w.fd < 0 || tcgetattr(w.fd, &t) < 0)
		bench_die("open %s: %s", slave, strerror(errno));
	cfmakeraw(&t);
	tcsetattr(w.fd, TCSANOW, &t);
	drain(m, 50);                    /* the tcsetattr status byte */
	t0 = bench_now_ns();
	w.end_ns = t0 + (uint64_t)(o->seconds * 1e9);
	pthread_create(&th, NULL, raw_write_thread, &w);
	for (;;) {
		struct pollfd pfd = { .fd = m, .events = POLLIN };
		if (poll(&pfd, 1, 500) != 1)
			break;              /* the writer stopped and all is read */
		for (;;) {
			ssize_t n = read(m, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (buf[0] == TIOCPKT_DATA && n > 1) {
				got += (uint64_t)(n - 1);
				t_last = bench_now_ns();
			}
		}
	}
	pthread_join(th, NULL);
	double secs = (double)(t_last - t0) / 1e9;
	printf("{\"mode\":\"ptyraw\",\"chunk\":%d,\"written\":%llu,\"recv\":%llu,"
	       "\"seconds\":%.6f,\"mbps\":%.3f}\n", o->chunk, (unsigned long long)w.written,
	       (unsigned long long)got, secs, secs > 0 ? (double)got / secs / 1e6 : 0.0);
	fflush(stdout);
	close(w.fd);
	close(m);
	return 0;
}

/* ---- ptylat --------------------------------------------------------------- */

/* The pty layer alone, with the same thread hand-off as the gateway: a
 * thread blocked in poll() on the reading end (the master in packet mode
 * for tx, the raw slave for rx) has every byte; the main thread writes. */
struct pty_reader {
	int fd;
	bool packet;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t recv, target, t_done;
	bool done, stop;
};

static void *pty_read_thread(void *arg)
{
	struct pty_reader *r = arg;
	uint8_t buf[4096 + 1];

	for (;;) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) == 0) {
			if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
				return NULL;
			continue;
		}
		for (;;) {
			ssize_t n = read(r->fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			uint64_t t = bench_now_ns();
			size_t got = (size_t)n;
			if (r->packet)
				got = buf[0] == TIOCPKT_DATA ? (size_t)n - 1 : 0;
			pthread_mutex_lock(&r->mu);
			r->recv += got;
			if (!r->done && r->recv >= r->target) {
				r->done = true;
				r->t_done = t;
				pthread_cond_signal(&r->cv);
			}
			pthread_mutex_unlock(&r->mu);
		}
	}
}

static int run_ptylat(const struct opts *o)
{
	struct pty_reader r = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct samples s = { 0 };
	struct termios t;
	pthread_t th;
	uint8_t *payload = calloc(1, (size_t)o->size);
	bool tx = !strcmp(o->dir, "tx");
	char slave[64];
	int one = 1, m, sl, wfd;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, sizeof(slave)))
		bench_die("cannot make a pty: %s", strerror(errno));
	ioctl(m, TIOCPKT, &one);
	sl = open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (sl < 0 || tcgetattr(sl, &t) < 0)
		bench_die("open %s: %s", slave, strerror(errno));
	cfmakeraw(&t);
	tcsetattr(sl, TCSANOW, &t);
	drain(m, 50);
	bench_cond_init(&r.cv);
	r.fd = tx ? m : sl;
	r.packet = tx;
	wfd = tx ? sl : m;
	pthread_create(&th, NULL, pty_read_thread, &r);
	for (int i = 0; i < o->warmup + o->count; i++) {
		uint64_t t0;

		pthread_mutex_lock(&r.mu);
		r.target = r.recv + (uint64_t)o->size;
		r.done = false;
		pthread_mutex_unlock(&r.mu);
		t0 = bench_now_ns();
		write_all(wfd, payload, (size_t)o->size, 5000);
		pthread_mutex_lock(&r.mu);
		if (bench_cond_wait_flag(&r.mu, &r.cv, &r.done, 5000) < 0)
			bench_die("ptylat %d: bytes did not arrive", i);
		if (i >= o->warmup)
			samples_add(&s, r.t_done - t0);
		pthread_mutex_unlock(&r.mu);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	samples_write(&s, o->samples);
	printf("{\"mode\":\"ptylat\",\"dir\":\"%s\",\"size\":%d,\"n\":%zu,\"p50_us\":%.3f,"
	       "\"p99_us\":%.3f,\"max_us\":%.3f}\n", o->dir, o->size, s.n,
	       samples_quantile(&s, 0.50) / 1e3, samples_quantile(&s, 0.99) / 1e3,
	       samples_quantile(&s, 1.0) / 1e3);
	fflush(stdout);
	close(sl);
	close(m);
	return 0;
}

/* Let the gateway take in our opens and tcsetattr: at least 500 ms, and
 * with --pid until its loop thread has not been woken for 300 ms (max 5 s). */
static void settle(pid_t pid)
{
	uint64_t last = UINT64_MAX;
	int quiet = 0;

	bench_sleep_ns(500 * 1000000u);
	for (int i = 0; pid && i < 50 && quiet < 3; i++) {
		struct task_cpu t[MAX_TASKS];
		size_t n = proc_tasks(pid, t, MAX_TASKS);
		uint64_t sw = 0;
		for (size_t j = 0; j < n; j++)
			if (t[j].tid == pid)
				sw = t[j].ctxsw;
		quiet = sw == last ? quiet + 1 : 0;
		last = sw;
		bench_sleep_ns(100 * 1000000u);
	}
}

/* ---- multi ----------------------------------------------------------------- */

static int run_multi(const struct opts *o)
{
	struct far f;
	struct task_cpu cpu0[MAX_TASKS];
	size_t ncpu0 = 0;
	int *fds = calloc((size_t)o->n, sizeof(*fds));
	uint64_t *written = calloc((size_t)o->n, sizeof(*written));
	uint64_t t0, t_end, t_stop, eagain = 0, total_written = 0, tick = 0;
	uint8_t buf[4096 + 251];
	char filter[256];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = pattern_at(i);
	far_init(&f, o, false);    /* --tx-topic is "PREFIX/ID/" here */
	f.nports = o->n;
	f.port_recv = calloc((size_t)o->n, sizeof(*f.port_recv));
	/* tx topics are PREFIX/ID/NAME/tx: --tx-topic gives "PREFIX/ID/" */
	snprintf(filter, sizeof(filter), "%s+/tx", o->tx_topic);
	f.prefix_len = strlen(o->tx_topic) + strlen(o->name_prefix);
	bench_client_subscribe(&f.bc, filter, o->qos);
	for (int i = 0; i < o->n; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s%04d", o->link_dir, o->name_prefix, i);
		fds[i] = app_open(path);
	}
	settle(o->pid);
	if (o->pid)
		ncpu0 = proc_tasks(o->pid, cpu0, MAX_TASKS);
	t0 = bench_now_ns();
	t_end = t0 + (uint64_t)(o->seconds * 1e9);
	for (;;) {
		uint64_t now = bench_now_ns();
		struct timespec ts;

		if (now >= t_end)
			break;
		for (int i = 0; i < o->n; i++) {
			uint64_t due = (uint64_t)(o->rate * (double)(now - t0) / 1e9);
			if (due <= written[i])
				continue;
			size_t n = due - written[i];
			if (n > 4096)
				n = 4096;
			ssize_t w = write(fds[i], buf + written[i] % 251, n);
			if (w > 0) {
				written[i] += (uint64_t)w;
				total_written += (uint64_t)w;
			} else if (w < 0 && errno == EAGAIN) {
				eagain++;
			}
		}
		tick++;
		uint64_t next = t0 + tick * (uint64_t)o->tick_ms * 1000000u;
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	t_stop = bench_now_ns();
	/* top up to the exact nominal amount so delivered/expected is exact */
	uint64_t nominal = (uint64_t)(o->rate * o->seconds);
	for (int i = 0; i < o->n; i++) {
		while (written[i] < nominal) {
			size_t n = nominal - written[i] > 4096 ? 4096 : nominal - written[i];
			write_all(fds[i], buf + written[i] % 251, n, 5000);
			written[i] += n;
			total_written += n;
		}
	}
	uint64_t t_topped = bench_now_ns();
	/* CPU over the active window only */
	struct task_cpu cpu1[MAX_TASKS];
	size_t ncpu1 = o->pid ? proc_tasks(o->pid, cpu1, MAX_TASKS) : 0;
	far_wait_for(&f, total_written, 3000, 30000);
	uint64_t t_done = bench_now_ns();
	pthread_mutex_lock(&f.mu);
	uint64_t min_port = UINT64_MAX;
	int short_ports = 0;
	for (int i = 0; i < o->n; i++) {
		if (f.port_recv[i] < min_port)
			min_port = f.port_recv[i];
		if (f.port_recv[i] < written[i])
			short_ports++;
	}
	printf("{\"mode\":\"multi\",\"ports\":%d,\"rate\":%.1f,\"seconds\":%.3f,\"tick_ms\":%d,"
	       "\"expected\":%llu,\"written\":%llu,\"recv\":%llu,\"msgs\":%llu,"
	       "\"min_port_recv\":%llu,\"short_ports\":%d,\"eagain\":%llu,\"topup_ms\":%.1f,"
	       "\"drain_ms\":%.1f,\"active_s\":%.6f",
	       o->n, o->rate, o->seconds, o->tick_ms,
	       (unsigned long long)(nominal * (uint64_t)o->n), (unsigned long long)total_written,
	       (unsigned long long)f.recv, (unsigned long long)f.msgs,
	       (unsigned long long)min_port, short_ports, (unsigned long long)eagain,
	       (double)(t_topped - t_stop) / 1e6, (double)(t_done - t_topped) / 1e6,
	       (double)(t_topped - t0) / 1e9);
	pthread_mutex_unlock(&f.mu);
	if (o->pid) {
		printf(",\"cpu\":");
		proc_tasks_diff_json(stdout, cpu0, ncpu0, cpu1, ncpu1, o->pid,
				     (double)(t_topped - t0) / 1e9);
	}
	printf("}\n");
	fflush(stdout);
	for (int i = 0; i < o->n; i++)
		close(fds[i]);
	far_close(&f);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: pty_bench lat|tput|ptyraw|multi [options]; see the source\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .qos = 1, .size = 64, .count = 2000, .warmup = 200, .chunk = 1024,
			  .tcp_port = -1, .n = 100, .tick_ms = 10, .seconds = 3, .rate = 11520,
			  .dir = "tx", .name_prefix = "p" };

	if (argc < 2)
		usage();
	o.mode = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (!strcmp(a, "--link")) o.link = v;
		else if (!strcmp(a, "--mqtt")) o.mqtt = v;
		else if (!strcmp(a, "--tx-topic")) o.tx_topic = v;
		else if (!strcmp(a, "--rx-topic")) o.rx_topic = v;
		else if (!strcmp(a, "--dir")) o.dir = v;
		else if (!strcmp(a, "--samples")) o.samples = v;
		else if (!strcmp(a, "--link-dir")) o.link_dir = v;
		else if (!strcmp(a, "--name-prefix")) o.name_prefix = v;
		else if (!strcmp(a, "--qos")) o.qos = atoi(v);
		else if (!strcmp(a, "--size")) o.size = atoi(v);
		else if (!strcmp(a, "--count")) o.count = atoi(v);
		else if (!strcmp(a, "--warmup")) o.warmup = atoi(v);
		else if (!strcmp(a, "--chunk")) o.chunk = atoi(v);
		else if (!strcmp(a, "--tcp-listen")) o.tcp_port = atoi(v);
		else if (!strcmp(a, "--n")) o.n = atoi(v);
		else if (!strcmp(a, "--tick-ms")) o.tick_ms = atoi(v);
		else if (!strcmp(a, "--seconds")) o.seconds = atof(v);
		else if (!strcmp(a, "--rate")) o.rate = atof(v);
		else if (!strcmp(a, "--pid")) o.pid = (pid_t)atoi(v);
		else usage();
		i++;
	}
	if (o.size < (int)sizeof(int) || o.chunk < 1 || o.tick_ms < 1 || o.n < 1)
		usage();
	if (!strcmp(o.mode, "ptyraw"))
		return run_ptyraw(&o);
	if (!strcmp(o.mode, "ptylat"))
		return run_ptylat(&o);
	if (!strcmp(o.mode, "multi")) {
		if (!o.link_dir || !o.mqtt || !o.tx_topic)
			usage();
		return run_multi(&o);
	}
	if (!o.link)
		usage();
	if (!strcmp(o.mode, "lat"))
		return run_lat(&o);
	if (!strcmp(o.mode, "tput"))
		return run_tput(&o);
	usage();
}
