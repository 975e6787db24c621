/* port_cuse_stub — where CUSE does not exist (not Linux, or built without
 * libfuse3): a cuse port can be configured but never starts. */
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int stub_start(struct port *base, char *err, size_t errlen)
{
#ifdef __linux__
	snprintf(err, errlen, "cuse ports are not supported by this build of mqttty: "
		 "rebuild it with libfuse3 (Debian: libfuse3-dev)");
#else
	snprintf(err, errlen, "cuse ports are not supported on this system (they need "
		 "Linux and /dev/cuse)");
#endif
	(void)base;
	return -ENOTSUP;
}

static void stub_write(struct port *base, const uint8_t *data, size_t n)
{
	(void)data;
	base->state.dropped += n;
}

static void stub_pause(struct port *base, bool paused)
{
	(void)base;
	(void)paused;
}

static void stub_destroy(struct port *base)
{
	free(base);
}

static const char *stub_path(const struct port *base)
{
	(void)base;
	return NULL;
}

static const struct port_ops stub_ops = {
	.start = stub_start,
	.write = stub_write,
	.pause = stub_pause,
	.destroy = stub_destroy,
	.path = stub_path,
};

struct port *port_cuse_new(const struct port_config *cfg, const struct port_env *env,
			   const struct port_events *ev, void *owner)
{
	struct port *p = calloc(1, sizeof(*p));

	if (p)
		port_base_init(p, &stub_ops, cfg, env, ev, owner);
	return p;
}
