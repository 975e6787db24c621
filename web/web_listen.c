/* web_listen — see web_listen.h. A connection is watched with a uv_poll
 * (readable) and a timer until its request line is complete (or
 * PEEK_MAX bytes arrived), then handed over; a connection that sends no
 * complete line within SNIFF_TIMEOUT_MS is closed, and at most SNIFF_MAX
 * connections wait at once: a new one pushes out the one waiting longest
 * (new connections are at the list's head), so idle connections can
 * neither hold the gateway's memory nor lock real clients out. */
#include "web_listen.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PEEK_MAX 2048                 /* lws takes a larger URL as 414 anyway */
#define SNIFF_MAX 256
#define SNIFF_TIMEOUT_MS 10000

struct sniff {
	uv_poll_t poll;
	uv_timer_t timer;
	struct web_listen *l;         /* borrowed */
	struct sniff *next;
	int fd;                       /* owned until handed over (then -1) */
	int open_handles;
};

struct web_listen {
	uv_loop_t *loop;
	uv_poll_t poll;               /* the listening socket */
	int fd;
	web_listen_cb cb;
	void *arg;
	struct sniff *sniffs;
	unsigned nsniffs;
	unsigned nclosing;            /* sniffs whose handles are still closing */
	bool stopping;
	int open_handles;             /* the listener's own poll: freed at 0 */
};

/* Non-blocking and close-on-exec, the portable way (macOS has no accept4
 * nor SOCK_NONBLOCK). */
static int fd_prepare(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

/* ---- the raw target ------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool web_target_raw_ok(const char *line, size_t len)
{
	const char *p = line, *end = line + len, *t;
	char path[PEEK_MAX + 1];
	size_t n = 0;

	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	while (p < end && *p != ' ')             /* the method */
		p++;
	while (p < end && *p == ' ')
		p++;
	/* absolute-form: skip scheme://authority */
	for (int i = 0; i < 2; i++) {
		const char *scheme = i ? "https://" : "http://";
		size_t sl = strlen(scheme);
		if ((size_t)(end - p) > sl && strncasecmp(p, scheme, sl) == 0) {
			for (t = p + sl; t < end && *t != '/' && *t != ' ' && *t != '\r' &&
			     *t != '\n'; t++)
				;
			p = t;
			break;
		}
	}
	/* decode the path (up to ?, #, space or end of line); an encoded
	 * separator is refused outright */
	while (p < end && *p != '?' && *p != '#' && *p != ' ' && *p != '\r' && *p != '\n' &&
	       n < sizeof(path) - 1) {
		char c = *p++;
		if (c == '%' && end - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
			c = (char)(hexval(p[0]) << 4 | hexval(p[1]));
			p += 2;
			if (c == '/' || c == '\\')
				return false;
		} else if (c == '\\') {
			return false;
		}
		path[n++] = c;
	}
	path[n] = '\0';
	/* segments: none empty (except the last, "a/"), none "." or ".." */
	for (const char *s = path; *s; ) {
		const char *e;
		size_t sl;
		if (*s != '/')
			return s == path ? true : false;   /* "*" or a relative form: not ours */
		s++;
		e = strchr(s, '/');
		sl = e ? (size_t)(e - s) : strlen(s);
		if ((sl == 0 && e) || (sl == 1 && s[0] == '.') ||
		    (sl == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += sl;
	}
	return true;
}

/* ---- connections waiting for their request line ---------------------------- */

static void listen_maybe_free(struct web_listen *l)
{
	if (l->stopping && !l->sniffs && !l->nclosing && !l->open_handles)
		free(l);
}

static void sniff_closed(uv_handle_t *h)
{
	struct sniff *s = h->data;
	struct web_listen *l = s->l;

	if (--s->open_handles)
		return;
	free(s);
	l->nclosing--;
	listen_maybe_free(l);
}

/* Unlink s and close its handles; its fd is closed unless handed over. */
static void sniff_end(struct sniff *s)
{
	struct web_listen *l = s->l;

	for (struct sniff **pp = &l->sniffs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			l->nsniffs--;
			break;
		}
	/* the poll must stop before lws watches the same fd */
	uv_poll_stop(&s->poll);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	l->nclosing++;
	uv_close((uv_handle_t *)&s->poll, sniff_closed);
	uv_close((uv_handle_t *)&s->timer, sniff_closed);
}

static void sniff_timeout(uv_timer_t *t)
{
	sniff_end(t->data);
}

static void sniff_readable(uv_poll_t *h, int status, int events)
{
	struct sniff *s = h->data;
	struct web_listen *l = s->l;
	char buf[PEEK_MAX];
	ssize_t n;
	int fd;

	if (status < 0) {
		sniff_end(s);
		return;
	}
	n = recv(s->fd, buf, sizeof(buf), MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {                     /* closed before a request */
		sniff_end(s);
		return;
	}
	if (!memchr(buf, '\n', (size_t)n) && (size_t)n < sizeof(buf))
		return;                       /* wait for the rest of the line */
	fd = s->fd;
	s->fd = -1;
	sniff_end(s);                     /* stops the poll on fd first */
	l->cb(l->arg, fd, web_target_raw_ok(buf, (size_t)n));
}

static void on_accept(uv_poll_t *h, int status, int events)
{
	struct web_listen *l = h->data;
	struct sniff *s;
	int fd;

	if (status < 0 || l->stopping)
		return;
	while ((fd = accept(l->fd, NULL, NULL)) >= 0) {
		if (fd_prepare(fd) < 0) {
			close(fd);
			continue;
		}
		if (l->nsniffs >= SNIFF_MAX) {
			/* the oldest waiter has had the longest to send its line:
			 * a client sends its request at once, a slow one loses */
			struct sniff *old = l->sniffs;
			while (old->next)
				old = old->next;
			sniff_end(old);
		}
		if (!(s = calloc(1, sizeof(*s)))) {
			close(fd);
			continue;
		}
		s->l = l;
		s->fd = fd;
		if (uv_poll_init(l->loop, &s->poll, fd) < 0) {
			close(fd);
			free(s);
			continue;
		}
		s->poll.data = s;
		uv_timer_init(l->loop, &s->timer);
		s->timer.data = s;
		s->open_handles = 2;
		s->next = l->sniffs;
		l->sniffs = s;
		l->nsniffs++;
		uv_timer_start(&s->timer, sniff_timeout, SNIFF_TIMEOUT_MS, 0);
		uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, sniff_readable);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
		log_warn("web: accept: %s", strerror(errno));
}

/* ---- the listening socket ------------------------------------------------- */

static int bind_listen(const char *host, int port, bool any, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char ps[16];
	int fd = -1, one = 1, rc;

	snprintf(ps, sizeof(ps), "%d", port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	/* a wildcard listens on IPv6 and IPv4 (as lws did), IPv4 alone if
	 * this host has no IPv6 */
	if ((rc = getaddrinfo(any ? "::" : host, ps, &hints, &res)) != 0 && any)
		rc = getaddrinfo("0.0.0.0", ps, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, 0);
		if (fd < 0)
			continue;
		if (fd_prepare(fd) < 0) {
			close(fd);
			fd = -1;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6) {
			int v6only = 0;
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void listener_closed(uv_handle_t *h)
{
	struct web_listen *l = h->data;

	close(l->fd);
	l->open_handles--;
	listen_maybe_free(l);
}

int web_listen_start(uv_loop_t *loop, const char *host, int port, web_listen_cb cb, void *arg,
		     struct web_listen **out, char *err, size_t errlen)
{
	bool any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
	struct web_listen *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->loop = loop;
	l->cb = cb;
	l->arg = arg;
	if ((l->fd = bind_listen(host, port, any, err, errlen)) < 0) {
		free(l);
		return -1;
	}
	if (uv_poll_init(loop, &l->poll, l->fd) < 0) {
		snprintf(err, errlen, "cannot watch the HTTP listening socket");
		close(l->fd);
		free(l);
		return -1;
	}
	l->poll.data = l;
	l->open_handles = 1;
	uv_poll_start(&l->poll, UV_READABLE, on_accept);
	*out = l;
	return 0;
}

void web_listen_stop(struct web_listen *l)
{
	if (!l || l->stopping)
		return;
	l->stopping = true;
	while (l->sniffs)
		sniff_end(l->sniffs);
	uv_close((uv_handle_t *)&l->poll, listener_closed);
}
