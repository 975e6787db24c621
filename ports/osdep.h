/* osdep — what differs between Linux and macOS, behind one small seam.
 *
 * The open/close watcher: learn that an application opened a pty slave
 * without polling (Linux: inotify IN_OPEN on /dev/pts/N). */
#ifndef MQTTTY_OSDEP_H
#define MQTTTY_OSDEP_H

#include <stdbool.h>
#include <uv.h>

struct osdep_watch;

typedef void (*osdep_open_cb)(void *arg);

/* *out owned by the caller, freed by osdep_watch_close (async). */
int osdep_watch_new(uv_loop_t *loop, struct osdep_watch **out, char *err, size_t errlen);
void osdep_watch_close(struct osdep_watch *w);
/* Call cb(arg) each time PATH is opened, and where osdep_watch_ticks() is
 * true (the portable watcher, which cannot see opens) at each of its ticks
 * (4 Hz) whatever happened. Returns a handle >= 0 or -errno. */
int osdep_watch_add(struct osdep_watch *w, const char *path, osdep_open_cb cb, void *arg);
void osdep_watch_rm(struct osdep_watch *w, int handle);
/* Whether the callbacks also run at each tick (see osdep_watch_add). */
bool osdep_watch_ticks(void);

/* Raise RLIMIT_NOFILE's soft limit to the hard limit. */
void osdep_raise_nofile(void);

#endif
