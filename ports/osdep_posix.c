/* osdep_posix — the portable open watcher, for systems without inotify
 * (macOS, the BSDs), and built on Linux with -DMQTTTY_PORTABLE=ON so that
 * it is tested there too.
 *
 * Nothing portable says "someone opened this pty slave", so this asks a few
 * times a second: every watched port's callback runs at each tick, and the
 * port looks at its own master (a closed slave shows POLLHUP there; the
 * callback is harmless for a port that is open already, or still closed;
 * an open port that is not told of tcsetattr reads its settings then).
 * Linux reports no POLLHUP before the slave's first open, so each slave is
 * opened and closed once here when it is added: from then on "no HUP"
 * means an application holds it. The cost: idle closed ports wake the loop
 * WATCH_HZ times a second (the inotify watcher never does). */
#include "osdep.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define WATCH_MS 250           /* 4 Hz: an open is noticed within 250 ms */

struct watch_slot {
	bool used;
	osdep_open_cb cb;
	void *arg;
};

struct osdep_watch {
	uv_timer_t timer;
	struct watch_slot *slots;
	size_t nslots, nused;
};

static void on_tick(uv_timer_t *t)
{
	struct osdep_watch *w = t->data;

	/* by index: a callback may add or remove watches (slots may move) */
	for (size_t i = 0; i < w->nslots; i++)
		if (w->slots[i].used && w->slots[i].cb)
			w->slots[i].cb(w->slots[i].arg);
}

int osdep_watch_new(uv_loop_t *loop, struct osdep_watch **out, char *err, size_t errlen)
{
	struct osdep_watch *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	*out = w;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct osdep_watch *w = h->data;

	free(w->slots);
	free(w);
}

void osdep_watch_close(struct osdep_watch *w)
{
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, on_closed);
}

int osdep_watch_add(struct osdep_watch *w, const char *path, osdep_open_cb cb, void *arg)
{
	size_t i;
	int fd;

	/* Open and close the slave once (see the top of the file). */
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	for (i = 0; i < w->nslots && w->slots[i].used; i++)
		;
	if (i == w->nslots) {
		size_t n = w->nslots ? w->nslots * 2 : 16;
		struct watch_slot *s = realloc(w->slots, n * sizeof(*s));
		if (!s)
			return -ENOMEM;
		memset(s + w->nslots, 0, (n - w->nslots) * sizeof(*s));
		w->slots = s;
		w->nslots = n;
	}
	w->slots[i] = (struct watch_slot){ true, cb, arg };
	if (w->nused++ == 0)
		uv_timer_start(&w->timer, on_tick, WATCH_MS, WATCH_MS);
	return (int)i;
}

void osdep_watch_rm(struct osdep_watch *w, int handle)
{
	if (handle < 0 || (size_t)handle >= w->nslots || !w->slots[handle].used)
		return;
	w->slots[handle] = (struct watch_slot){ false, NULL, NULL };
	if (--w->nused == 0)
		uv_timer_stop(&w->timer);
}

bool osdep_watch_ticks(void)
{
	return true;
}

void osdep_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}
