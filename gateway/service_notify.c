/* service_notify — READY/WATCHDOG/STOPPING for systemd (see the header). */
#include "service_notify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#ifdef MQTTTY_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* sd_notify() with a non-blocking send: libsystemd's own waits when the
 * service manager's queue is full (a unix datagram socket holds only a few
 * messages), and this runs on the loop thread, which must never wait. A
 * message that does not fit is dropped: the next keep-alive follows. */
static int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = path ? strlen(path) : 0;
	int fd, rc = 0;

	if (n == 0)
		return 0;                       /* not under a service manager */
	if (n >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';          /* an abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

struct service_notify {
	uv_timer_t timer;
};

static void on_watchdog(uv_timer_t *t)
{
	int rc = notify_send("WATCHDOG=1");

	(void)t;
	if (rc < 0)
		log_debug("watchdog keep-alive not sent: %s", strerror(-rc));
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

struct service_notify *service_notify_ready(uv_loop_t *loop)
{
	struct service_notify *sn;
	uint64_t usec = 0, ms;
	int rc;

	rc = notify_send("READY=1");
	if (rc < 0)
		log_warn("cannot tell the service manager we are ready: %s", strerror(-rc));
	/* > 0 only when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is us) */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return NULL;
	sn = calloc(1, sizeof(*sn));
	if (!sn) {
		log_error("out of memory: no watchdog keep-alives (the service manager will restart us)");
		return NULL;
	}
	ms = usec / 2000;          /* half the period, in ms */
	if (ms == 0)
		ms = 1;
	uv_timer_init(loop, &sn->timer);
	sn->timer.data = sn;
	uv_timer_start(&sn->timer, on_watchdog, ms, ms);
	uv_unref((uv_handle_t *)&sn->timer);
	log_debug("watchdog: keep-alive every %llu ms", (unsigned long long)ms);
	return sn;
}

void service_notify_close(struct service_notify *sn)
{
	notify_send("STOPPING=1");
	if (sn)
		uv_close((uv_handle_t *)&sn->timer, on_closed);
}

#else /* no libsystemd: nothing to tell anyone */

struct service_notify *service_notify_ready(uv_loop_t *loop)
{
	(void)loop;
	return NULL;
}

void service_notify_close(struct service_notify *sn)
{
	(void)sn;
}

#endif
