/* tcp_out — see tcp_out.h. Two buffers swap: the queue collects while the
 * other one is in uv_write; when that write completes the queue goes. A
 * third one keeps the data that arrives while the peer has us suspended:
 * protocol bytes (answers) still go meanwhile, the held data follows them
 * on resume. */
#include "tcp_out.h"

#include <stdlib.h>
#include <string.h>

static void out_kick(struct tcp_out *o);

void tcp_out_init(struct tcp_out *o)
{
	memset(o, 0, sizeof(*o));
	o->req.data = o;
}

void tcp_out_attach(struct tcp_out *o, uv_stream_t *s)
{
	o->stream = s;
	o->len = o->hold_len = 0;
	o->held = false;
}

void tcp_out_detach(struct tcp_out *o)
{
	o->stream = NULL;
	o->len = o->hold_len = 0;
}

size_t tcp_out_pending(const struct tcp_out *o)
{
	return o->len + o->hold_len + (o->busy ? o->fly_len : 0);
}

/* Room for `more` bytes after *len in *buf. */
static int grow(uint8_t **buf, size_t *cap, size_t len, size_t more)
{
	size_t c = *cap ? *cap : 4096;
	uint8_t *b;

	if (len + more <= *cap)
		return 0;
	while (c < len + more)
		c *= 2;
	if (!(b = realloc(*buf, c)))
		return -1;
	*buf = b;
	*cap = c;
	return 0;
}

static void on_written(uv_write_t *req, int status)
{
	struct tcp_out *o = req->data;

	o->busy = false;
	o->fly_len = 0;
	if (status < 0)
		return;     /* the reader sees the error or EOF and closes */
	out_kick(o);
}

static void out_kick(struct tcp_out *o)
{
	uint8_t *b;
	size_t c;
	uv_buf_t buf;

	if (!o->stream || o->busy || !o->len)
		return;
	/* swap: the queue goes out, the old flight buffer collects */
	b = o->fly, c = o->fly_cap;
	o->fly = o->q, o->fly_cap = o->cap, o->fly_len = o->len;
	o->q = b, o->cap = c, o->len = 0;
	buf = uv_buf_init((char *)o->fly, (unsigned)o->fly_len);
	if (uv_write(&o->req, o->stream, &buf, 1, on_written) == 0)
		o->busy = true;
	else
		o->fly_len = 0;     /* the stream is failing: the reader closes it */
}

int tcp_out_put(struct tcp_out *o, const uint8_t *p, size_t n, size_t limit)
{
	if (!o->stream)
		return 0;
	if (tcp_out_pending(o) + n > limit + TCP_OUT_SLACK || grow(&o->q, &o->cap, o->len, n) < 0)
		return -1;
	memcpy(o->q + o->len, p, n);
	o->len += n;
	out_kick(o);
	return 0;
}

size_t tcp_out_data(struct tcp_out *o, const struct telnet *t, const uint8_t *p, size_t n,
		    size_t limit)
{
	size_t pend = tcp_out_pending(o), room, want, used = 0;
	uint8_t **buf = o->held ? &o->hold : &o->q;
	size_t *len = o->held ? &o->hold_len : &o->len, *cap = o->held ? &o->hold_cap : &o->cap;

	if (!o->stream || pend >= limit)
		return 0;
	room = limit - pend;
	want = room < 2 * n ? room : 2 * n;
	if (room < 2 || grow(buf, cap, *len, want) < 0)
		return 0;
	*len += telnet_escape(t, p, n, *buf + *len, want, &used);
	out_kick(o);
	return used;
}

void tcp_out_hold(struct tcp_out *o, bool held)
{
	o->held = held;
	if (held || !o->hold_len)
		return;
	if (grow(&o->q, &o->cap, o->len, o->hold_len) == 0) {
		memcpy(o->q + o->len, o->hold, o->hold_len);
		o->len += o->hold_len;
	}
	o->hold_len = 0;        /* (out of memory: lost, as a full bound would) */
	out_kick(o);
}

void tcp_out_free(struct tcp_out *o)
{
	free(o->q);
	free(o->fly);
	free(o->hold);
	o->q = o->fly = o->hold = NULL;
	o->len = o->cap = o->fly_len = o->fly_cap = o->hold_len = o->hold_cap = 0;
}
