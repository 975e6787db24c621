/* service_notify — READY/WATCHDOG/STOPPING for systemd (see the header). */
#include "service_notify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#ifdef MQTTTY_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

struct service_notify {
	uv_timer_t timer;
};

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
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

	rc = sd_notify(0, "READY=1");
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
	sd_notify(0, "STOPPING=1");
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
