/* osdep_linux — inotify-based open watcher. One inotify fd for all ports,
 * watched by one uv_poll; callbacks are found by watch descriptor. */
#include "osdep.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <unistd.h>

struct watch_slot {
	int wd;            /* -1 = free */
	osdep_open_cb cb;
	void *arg;
};

struct osdep_watch {
	uv_poll_t poll;
	int fd;
	struct watch_slot *slots;
	size_t nslots;
};

static void on_inotify(uv_poll_t *h, int status, int events)
{
	struct osdep_watch *w = h->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n <= 0)
			return;     /* EAGAIN: drained */
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (!(ev->mask & IN_OPEN))
				continue;
			for (size_t i = 0; i < w->nslots; i++)
				if (w->slots[i].wd == ev->wd && w->slots[i].cb) {
					w->slots[i].cb(w->slots[i].arg);
					break;
				}
		}
	}
}

int osdep_watch_new(uv_loop_t *loop, struct osdep_watch **out, char *err, size_t errlen)
{
	struct osdep_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "inotify_init1: %s", strerror(e));
		free(w);
		return -e;
	}
	uv_poll_init(loop, &w->poll, w->fd);
	w->poll.data = w;
	uv_poll_start(&w->poll, UV_READABLE, on_inotify);
	*out = w;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct osdep_watch *w = h->data;

	close(w->fd);
	free(w->slots);
	free(w);
}

void osdep_watch_close(struct osdep_watch *w)
{
	uv_poll_stop(&w->poll);
	uv_close((uv_handle_t *)&w->poll, on_closed);
}

int osdep_watch_add(struct osdep_watch *w, const char *path, osdep_open_cb cb, void *arg)
{
	int wd = inotify_add_watch(w->fd, path, IN_OPEN);
	size_t i;

	if (wd < 0)
		return -errno;
	for (i = 0; i < w->nslots && w->slots[i].wd >= 0; i++)
		;
	if (i == w->nslots) {
		size_t n = w->nslots ? w->nslots * 2 : 16;
		struct watch_slot *s = realloc(w->slots, n * sizeof(*s));
		if (!s) {
			inotify_rm_watch(w->fd, wd);
			return -ENOMEM;
		}
		for (size_t j = w->nslots; j < n; j++)
			s[j].wd = -1;
		w->slots = s;
		w->nslots = n;
	}
	w->slots[i] = (struct watch_slot){ wd, cb, arg };
	return (int)i;
}

void osdep_watch_rm(struct osdep_watch *w, int handle)
{
	if (handle < 0 || (size_t)handle >= w->nslots || w->slots[handle].wd < 0)
		return;
	inotify_rm_watch(w->fd, w->slots[handle].wd);
	w->slots[handle].wd = -1;
	w->slots[handle].cb = NULL;
}

bool osdep_watch_ticks(void)
{
	return false;
}

void osdep_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}
