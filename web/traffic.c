/* traffic — a bounded ring of the last messages per port (see traffic.h).
 * Rings are found by the port's slot, so a busy port costs no name lookup;
 * a port's ring goes when the port is removed. */
#include "sbuf.h"
#include "traffic.h"
#include "gateway.h"
#include "log.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t traffic_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the ring ------------------------------------------------------------ */

static void ring_drop_oldest(struct traffic_ring *r)
{
	size_t tail = (r->head + TRAFFIC_KEEP - r->n) % TRAFFIC_KEEP;

	r->bytes -= r->m[tail]->len;
	free(r->m[tail]);
	r->m[tail] = NULL;
	r->n--;
}

void traffic_ring_push(struct traffic_ring *r, uint64_t ts, const char *dir, const char *src,
		       const uint8_t *p, size_t n)
{
	struct traffic_msg *m;

	if (n > TRAFFIC_BYTES)
		n = TRAFFIC_BYTES;      /* cannot happen with frame max ≤ 64 KiB */
	if (!r->m && !(r->m = calloc(TRAFFIC_KEEP, sizeof(*r->m))))
		return;
	if (!(m = malloc(sizeof(*m) + n)))
		return;
	m->ts = ts;
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	snprintf(m->src, sizeof(m->src), "%s", src ? src : "port");
	m->len = (uint32_t)n;
	memcpy(m->data, p, n);
	while (r->n && (r->n == TRAFFIC_KEEP || r->bytes + n > TRAFFIC_BYTES))
		ring_drop_oldest(r);
	r->m[r->head] = m;
	r->head = (r->head + 1) % TRAFFIC_KEEP;
	r->n++;
	r->bytes += n;
}

void traffic_ring_clear(struct traffic_ring *r)
{
	while (r->n)
		ring_drop_oldest(r);
	free(r->m);
	memset(r, 0, sizeof(*r));
}

static const struct traffic_msg *ring_at(const struct traffic_ring *r, size_t i)
{
	return r->m[(r->head + TRAFFIC_KEEP - r->n + i) % TRAFFIC_KEEP];
}

json_t *traffic_ring_json(const struct traffic_ring *r)
{
	json_t *a = json_array();
	char *b64 = NULL;
	size_t cap = 0;

	for (size_t i = 0; a && r && i < r->n; i++) {
		const struct traffic_msg *m = ring_at(r, i);
		size_t need = ((size_t)m->len + 2) / 3 * 4 + 1;
		if (need > cap) {
			char *nb = realloc(b64, need);
			if (!nb)
				break;
			b64 = nb;
			cap = need;
		}
		EVP_EncodeBlock((unsigned char *)b64, m->data, (int)m->len);
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s}", "ts", (json_int_t)m->ts,
						   "dir", m->dir, "src", m->src, "data", b64));
	}
	free(b64);
	return a;
}

/* ---- downloads ------------------------------------------------------------ */

/* The bytes as text a person reads: printable ASCII as is, the usual
 * controls as \r \n \t, anything else as \xHH; in CSV a quote is doubled. */
static void put_escaped(struct sbuf *b, const uint8_t *p, size_t n, bool csv)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\r')
			sbuf_put(b, "\\r", 2);
		else if (c == '\n')
			sbuf_put(b, "\\n", 2);
		else if (c == '\t')
			sbuf_put(b, "\\t", 2);
		else if (c == '\\')
			sbuf_put(b, "\\\\", 2);
		else if (c == '"' && csv)
			sbuf_put(b, "\"\"", 2);
		else if (c >= 0x20 && c < 0x7f)
			sbuf_put(b, (const char *)&c, 1);
		else
			sbuf_printf(b, "\\x%02X", c);
	}
}

static void put_time(struct sbuf *b, uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char t[32];

	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	sbuf_printf(b, "%s.%03uZ", t, (unsigned)(ms % 1000));
}

char *traffic_ring_export(const struct traffic_ring *r, bool csv, size_t *len)
{
	struct sbuf b = { 0 };

	sbuf_put(&b, "", 0);
	if (csv)
		sbuf_put(&b, "ts_ms,time_utc,dir,src,bytes,hex,text\r\n", 39);
	for (size_t i = 0; r && i < r->n; i++) {
		const struct traffic_msg *m = ring_at(r, i);
		if (csv) {
			sbuf_printf(&b, "%llu,", (unsigned long long)m->ts);
			put_time(&b, m->ts);
			sbuf_printf(&b, ",%s,%s,%u,", m->dir, m->src, (unsigned)m->len);
			for (uint32_t k = 0; k < m->len; k++)
				sbuf_printf(&b, k ? " %02X" : "%02X", m->data[k]);
			sbuf_put(&b, ",\"", 2);
			put_escaped(&b, m->data, m->len, true);
			sbuf_put(&b, "\"\r\n", 3);
		} else {
			put_time(&b, m->ts);
			sbuf_printf(&b, "  %s %-4s %5u B  ", strcmp(m->dir, "tx") == 0 ? "TX" : "RX",
			     m->src, (unsigned)m->len);
			put_escaped(&b, m->data, m->len, false);
			sbuf_put(&b, "\n", 1);
		}
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ---- the observer ---------------------------------------------------------- */

struct slot_ring {
	char name[PORT_NAME_MAX + 1];
	struct traffic_ring ring;
};

struct traffic {
	struct gateway *gw;
	struct gw_observer obs;
	struct slot_ring *rings;          /* by port slot */
	size_t nrings;
};

static struct slot_ring *ring_of(struct traffic *t, const struct gw_port *gp, bool make)
{
	struct slot_ring *sr;

	if (gp->slot >= t->nrings) {
		if (!make)
			return NULL;
		size_t n = gp->slot + 16;
		struct slot_ring *nr = realloc(t->rings, n * sizeof(*nr));
		if (!nr)
			return NULL;
		memset(nr + t->nrings, 0, (n - t->nrings) * sizeof(*nr));
		t->rings = nr;
		t->nrings = n;
	}
	sr = &t->rings[gp->slot];
	if (strcmp(sr->name, gp->cfg.name) != 0) {
		/* a slot that held another port: start afresh */
		traffic_ring_clear(&sr->ring);
		if (!make)
			return NULL;
		snprintf(sr->name, sizeof(sr->name), "%s", gp->cfg.name);
	}
	return sr;
}

static void on_traffic(void *arg, const struct gw_port *gp, const char *dir, const char *src,
		       const uint8_t *p, size_t n)
{
	struct slot_ring *sr = ring_of(arg, gp, true);

	if (sr)
		traffic_ring_push(&sr->ring, traffic_now_ms(), dir, src, p, n);
}

static void on_port(void *arg, const char *op, const struct gw_port *gp)
{
	struct slot_ring *sr;

	if (!gp || strcmp(op, "removed") != 0 || !(sr = ring_of(arg, gp, false)))
		return;
	traffic_ring_clear(&sr->ring);
	sr->name[0] = '\0';
}

struct traffic *traffic_start(struct gateway *gw)
{
	struct traffic *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->gw = gw;
	t->obs = (struct gw_observer){ .arg = t, .on_port = on_port, .on_traffic = on_traffic };
	if (gw_events_add(&gw->events, &t->obs) < 0) {
		log_error("traffic: too many observers: recent traffic is not kept");
		free(t);
		return NULL;
	}
	return t;
}

void traffic_stop(struct traffic *t)
{
	if (t)
		gw_events_del(&t->gw->events, &t->obs);
}

void traffic_free(struct traffic *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrings; i++)
		traffic_ring_clear(&t->rings[i].ring);
	free(t->rings);
	free(t);
}

const struct traffic_ring *traffic_find(const struct traffic *t, const char *name)
{
	const struct gw_port *gp;

	if (!t || !(gp = gw_port_find(t->gw, name)) || gp->slot >= t->nrings ||
	    strcmp(t->rings[gp->slot].name, name) != 0)
		return NULL;
	return &t->rings[gp->slot].ring;
}

json_t *traffic_summary_json(const struct traffic *t)
{
	json_t *o = json_object();

	for (size_t i = 0; o && t && i < t->nrings; i++) {
		const struct slot_ring *sr = &t->rings[i];
		if (!sr->name[0] || !sr->ring.n)
			continue;
		const struct traffic_msg *last = ring_at(&sr->ring, sr->ring.n - 1);
		json_object_set_new(o, sr->name, json_pack("{s:I, s:I}", "last_ts", (json_int_t)last->ts,
							   "messages", (json_int_t)sr->ring.n));
	}
	return o;
}
