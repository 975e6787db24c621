/* service_notify — systemd's notify protocol for a `Type=notify` unit
 * (contract §5): READY=1 once the gateway serves its ports, WATCHDOG=1 at
 * half the period the service manager asks for (WATCHDOG_USEC), STOPPING=1
 * when closing. Not under systemd (no NOTIFY_SOCKET), or built without
 * libsystemd (macOS), every call is a no-op and no timer runs. */
#ifndef MQTTTY_SERVICE_NOTIFY_H
#define MQTTTY_SERVICE_NOTIFY_H

#include <uv.h>

struct service_notify;

/* Tell the service manager the gateway is ready, and start the watchdog
 * timer if one is asked for. The timer does not keep the loop alive (it is
 * unreferenced): the loop returns once everything else has closed; then
 * close this and run the loop once more. Returns an owned handle, or NULL
 * when there is nothing to keep (no watchdog, or out of memory). */
struct service_notify *service_notify_ready(uv_loop_t *loop);

/* STOPPING=1; stops the timer and frees the handle in its close callback
 * (so run the loop after it). NULL is fine. */
void service_notify_close(struct service_notify *sn);

#endif
