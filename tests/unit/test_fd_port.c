/* Unit tests for ports/fd_port.c, the core pty and device ports share:
 * a real libuv loop and a real socket pair (the test holds the far end),
 * with a small backend that records what the core tells it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd_port.h"

#define RX_LIMIT (8 * 1024)

struct tport {
	struct fd_port f;
	uv_loop_t loop;
	struct port_env env;
	int far;                     /* the local side's end, held by the test */
	size_t got, datas;
	int drained, hangups, poll_errors, closed, last_err;
	bool status_bytes;           /* input hook: first byte is a status byte */
	int statuses;
};

static void ev_data(void *owner, const uint8_t *p, size_t n)
{
	struct tport *t = owner;

	t->got += n;
	t->datas++;
}

static void ev_drained(void *owner)
{
	((struct tport *)owner)->drained++;
}

static void ev_none(void *owner) { }

static const struct port_events events = {
	.data = ev_data, .drained = ev_drained, .state = ev_none, .flush_tx = ev_none,
};

static size_t t_input(struct fd_port *f, uint8_t *buf, size_t n, uint8_t **data)
{
	struct tport *t = (struct tport *)f;

	if (!t->status_bytes) {
		*data = buf;
		return n;
	}
	t->statuses++;
	*data = buf + 1;
	return n - 1;
}

static void t_hangup(struct fd_port *f, int err)
{
	struct tport *t = (struct tport *)f;

	t->hangups++;
	t->last_err = err;
	fd_port_set_active(f, false);
}

static void t_poll_error(struct fd_port *f, int status)
{
	((struct tport *)f)->poll_errors++;
}

static void t_closed(struct fd_port *f)
{
	((struct tport *)f)->closed++;
}

static const struct fd_port_ops tops = {
	.input = t_input, .hangup = t_hangup, .poll_error = t_poll_error, .closed = t_closed,
};

static int setup(void **state)
{
	struct tport *t = calloc(1, sizeof(*t));
	struct port_config cfg;
	int sv[2];
	char err[128];

	if (!t || uv_loop_init(&t->loop) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	t->env.loop = &t->loop;
	t->env.rx_limit = RX_LIMIT;
	port_base_init(&t->f.base, NULL, &cfg, &t->env, &events, t);
	fd_port_init(&t->f, &tops, 4096, 0);
	t->f.fd = sv[0];
	t->far = sv[1];
	if (fd_port_attach(&t->f, err, sizeof(err)) < 0)
		return -1;
	*state = t;
	return 0;
}

/* Every test ends by closing the loop with nothing alive. */
static int teardown(void **state)
{
	struct tport *t = *state;

	assert_true(fd_port_detach(&t->f));
	assert_false(fd_port_detach(&t->f));      /* once */
	assert_int_equal(uv_run(&t->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(t->closed, 1);
	assert_int_equal(uv_loop_close(&t->loop), 0);
	close(t->f.fd);
	close(t->far);
	fd_port_free(&t->f);
	free(t);
	return 0;
}

static size_t fill(int fd, size_t n)
{
	static uint8_t junk[4096];
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, junk, n - done < sizeof(junk) ? n - done : sizeof(junk));
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	return done;
}

static void reads_with_a_budget(void **state)
{
	struct tport *t = *state;
	size_t put = fill(t->far, 160 * 1024);

	assert_true(put > 100 * 1024);
	fd_port_set_active(&t->f, true);
	assert_int_equal(t->f.events, UV_READABLE);
	fd_port_read(&t->f);
	/* 64 KiB a wake-up, give or take the last read */
	assert_true(t->got >= 64 * 1024 && t->got < 64 * 1024 + 4096);
	assert_int_equal(t->drained, 1);
	assert_int_equal(t->f.base.state.tx_bytes, t->got);
	/* the loop reads the rest (level-triggered poll) */
	while (t->got < put)
		uv_run(&t->loop, UV_RUN_ONCE);
	assert_int_equal(t->got, put);
	assert_int_equal(t->f.base.state.tx_bytes, put);
}

static void small_read_ends_the_wakeup(void **state)
{
	struct tport *t = *state;

	t->f.read_size = 8;
	fd_port_set_active(&t->f, true);
	assert_int_equal(fill(t->far, 20), 20);
	t->f.small_read = 1024;
	fd_port_read(&t->f);
	assert_int_equal(t->got, 8);          /* one read, then back to the loop */
	assert_int_equal(t->drained, 1);
	t->f.small_read = 0;
	fd_port_read(&t->f);
	assert_int_equal(t->got, 20);          /* bulk: read on until EAGAIN */
	assert_int_equal(t->datas, 3);
	assert_int_equal(t->drained, 2);
}

static void input_hook_strips_and_skips(void **state)
{
	struct tport *t = *state;
	const uint8_t status_only = 0x40, pkt[4] = { 0, 'a', 'b', 'c' };

	t->status_bytes = true;
	t->f.small_read = 1;      /* one read per call: one packet each */
	fd_port_set_active(&t->f, true);
	assert_int_equal(write(t->far, &status_only, 1), 1);
	fd_port_read(&t->f);      /* no payload: nothing delivered, not drained */
	assert_int_equal(t->statuses, 1);
	assert_int_equal(t->got, 0);
	assert_int_equal(t->drained, 0);
	assert_int_equal(write(t->far, pkt, sizeof(pkt)), 4);
	fd_port_read(&t->f);
	assert_int_equal(t->got, 3);
	assert_int_equal(t->f.base.state.tx_bytes, 3);
	assert_int_equal(t->drained, 1);
}

static void pause_stops_reading(void **state)
{
	struct tport *t = *state;

	fd_port_set_active(&t->f, true);
	assert_int_equal(fill(t->far, 100), 100);
	fd_port_pause(&t->f.base, true);
	assert_int_equal(t->f.events, 0);
	fd_port_read(&t->f);
	uv_run(&t->loop, UV_RUN_NOWAIT);
	assert_int_equal(t->got, 0);
	fd_port_pause(&t->f.base, false);
	assert_int_equal(t->f.events, UV_READABLE);
	uv_run(&t->loop, UV_RUN_ONCE);
	assert_int_equal(t->got, 100);
}

static void hangup_after_the_last_bytes(void **state)
{
	struct tport *t = *state;

	fd_port_set_active(&t->f, true);
	assert_int_equal(fill(t->far, 10), 10);
	shutdown(t->far, SHUT_WR);
	uv_run(&t->loop, UV_RUN_ONCE);
	assert_int_equal(t->got, 10);         /* the data first, announced */
	assert_int_equal(t->drained, 1);
	assert_int_equal(t->hangups, 1);
	assert_int_equal(t->last_err, 0);
	assert_false(t->f.active);
	assert_int_equal(t->f.events, 0);      /* a closed side is not polled */
}

static void writes_buffer_bound_and_drop(void **state)
{
	struct tport *t = *state;
	static uint8_t big[64 * 1024];
	struct port_state *st = &t->f.base.state;
	uint8_t sink[4096];
	size_t took, out = 0;

	/* nobody there: dropped */
	fd_port_write(&t->f.base, big, 100);
	assert_int_equal(st->dropped, 100);
	assert_int_equal(st->rx_bytes, 0);

	fd_port_set_active(&t->f, true);
	/* write until the socket is full, then past the bound */
	for (int i = 0; i < 64 && t->f.out.len == 0; i++)
		fd_port_write(&t->f.base, big, sizeof(big));
	took = st->rx_bytes;
	assert_true(t->f.out.len > 0);
	assert_true(t->f.events & UV_WRITABLE);
	fd_port_write(&t->f.base, big, RX_LIMIT);
	assert_int_equal(t->f.out.len, RX_LIMIT);
	assert_true(st->dropped > 100);

	/* the far end reads: the buffer is flushed by the loop */
	while (out < took + RX_LIMIT) {
		ssize_t n = read(t->far, sink, sizeof(sink));
		if (n > 0)
			out += (size_t)n;
		uv_run(&t->loop, UV_RUN_NOWAIT);
	}
	assert_int_equal(t->f.out.len, 0);
	assert_int_equal(st->rx_bytes, took + RX_LIMIT);
	assert_false(t->f.events & UV_WRITABLE);
}

static void going_inactive_drops_the_buffer(void **state)
{
	struct tport *t = *state;
	static uint8_t big[64 * 1024];
	struct port_state *st = &t->f.base.state;
	uint64_t dropped;

	fd_port_set_active(&t->f, true);
	for (int i = 0; i < 64 && t->f.out.len == 0; i++)
		fd_port_write(&t->f.base, big, sizeof(big));
	assert_true(t->f.out.len > 0);
	dropped = st->dropped + t->f.out.len;
	fd_port_set_active(&t->f, false);
	assert_int_equal(t->f.out.len, 0);
	assert_int_equal(st->dropped, dropped);
	assert_int_equal(t->f.events, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reads_with_a_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(small_read_ends_the_wakeup, setup, teardown),
		cmocka_unit_test_setup_teardown(input_hook_strips_and_skips, setup, teardown),
		cmocka_unit_test_setup_teardown(pause_stops_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(hangup_after_the_last_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(writes_buffer_bound_and_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(going_inactive_drops_the_buffer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
