/* srv_harness — gateway/rfc2217_srv.c on its own loop in front of a
 * pretend port, for the integration tests with pyserial's RFC 2217 client
 * before the server is wired into the port manager.
 *
 * Usage: rfc2217_srv_harness ADDR:PORT
 * The pretend port echoes every byte the client writes back to it, and
 * takes every setting (a device that can do anything). Lines on stdout:
 *   listening | open 1 | open 0 | data HEX | dropped N | set KEY=VALUE... | purge
 * Lines on stdin: "cts 1", "dsr 0", "dcd 1", "ri 1" (input lines the port
 * reports), "pause 1"/"pause 0" (the port's backpressure); EOF ends the
 * harness. */
#include "rfc2217_srv.h"
#include "port_config.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct harness {
	uv_loop_t *loop;
	struct rfc2217_srv *srv;
	struct port_state st;
	uv_pipe_t in;
	uv_signal_t sig;
	char line[256];
	size_t len;
};

static void on_data(void *owner, const uint8_t *p, size_t n)
{
	struct harness *h = owner;

	printf("data ");
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
	size_t took = rfc2217_srv_write(h->srv, p, n);
	if (took != n)
		printf("dropped %zu\n", n - took);
}

static void on_open(void *owner, bool open)
{
	printf("open %d\n", open);
}

static void on_set(void *owner, const struct line_set *s, struct port_state *now)
{
	struct harness *h = owner;

	line_set_merge(s, &h->st.line);
	if (s->dtr != STATE_NULL)
		h->st.dtr = s->dtr;
	if (s->rts != STATE_NULL)
		h->st.rts = s->rts;
	printf("set baud=%lld data_bits=%d parity=%s stop_bits=%d flow=%s dtr=%d rts=%d "
	       "break_ms=%d\n", (long long)h->st.line.baud, h->st.line.data_bits,
	       port_parity_name(h->st.line.parity), h->st.line.stop_bits,
	       port_flow_name(h->st.line.flow), h->st.dtr, h->st.rts, s->break_ms);
	*now = h->st;
}

static void on_purge(void *owner)
{
	printf("purge\n");
}

static const struct rfc2217_srv_events events = {
	.data = on_data, .open = on_open, .set = on_set, .purge_tx = on_purge,
};

static void command(struct harness *h, const char *l)
{
	char key[8];
	int v;
	int *line = NULL;

	if (sscanf(l, "%7s %d", key, &v) != 2)
		return;
	if (!strcmp(key, "pause")) {
		rfc2217_srv_pause(h->srv, v);
		printf("ok pause\n");
		return;
	}
	if (!strcmp(key, "cts")) line = &h->st.cts;
	if (!strcmp(key, "dsr")) line = &h->st.dsr;
	if (!strcmp(key, "dcd")) line = &h->st.dcd;
	if (!strcmp(key, "ri")) line = &h->st.ri;
	if (!line)
		return;
	*line = !!v;
	rfc2217_srv_state(h->srv, &h->st);
	printf("ok %s\n", key);
}

static void stop(struct harness *h)
{
	if (!h->srv)
		return;
	rfc2217_srv_close(h->srv);
	h->srv = NULL;
	uv_close((uv_handle_t *)&h->in, NULL);
	uv_close((uv_handle_t *)&h->sig, NULL);
}

static void on_alloc(uv_handle_t *hd, size_t sz, uv_buf_t *b)
{
	static char buf[256];

	*b = uv_buf_init(buf, sizeof(buf));
}

static void on_stdin(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct harness *h = st->data;

	if (n < 0) {
		stop(h);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (b->base[i] == '\n' || h->len == sizeof(h->line) - 1) {
			h->line[h->len] = '\0';
			command(h, h->line);
			h->len = 0;
		} else {
			h->line[h->len++] = b->base[i];
		}
	}
}

static void on_signal(uv_signal_t *s, int signum)
{
	stop(s->data);
}

int main(int argc, char **argv)
{
	struct harness h = { 0 };
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: %s ADDR:PORT\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(LOG_DEBUG);
	h.loop = uv_default_loop();
	port_state_init(&h.st);
	h.st.line = (struct line_settings){ 9600, 8, PARITY_NONE, 1, FLOW_NONE };
	h.st.dtr = h.st.rts = 0;
	if (rfc2217_srv_start(h.loop, argv[1], "harness", 64 * 1024, &events, &h, &h.srv, err,
			      sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		uv_run(h.loop, UV_RUN_DEFAULT);
		return 1;
	}
	rfc2217_srv_state(h.srv, &h.st);
	uv_pipe_init(h.loop, &h.in, 0);
	uv_pipe_open(&h.in, 0);
	h.in.data = &h;
	uv_read_start((uv_stream_t *)&h.in, on_alloc, on_stdin);
	uv_signal_init(h.loop, &h.sig);
	h.sig.data = &h;
	uv_signal_start(&h.sig, on_signal, SIGTERM);
	printf("listening\n");
	uv_run(h.loop, UV_RUN_DEFAULT);
	return uv_loop_close(h.loop) == 0 ? 0 : 3;
}
