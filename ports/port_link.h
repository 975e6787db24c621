/* port_link — the stable path LINK_DIR/NAME of a virtual port: a symlink
 * to what the application really opens (a pty slave, a CUSE node). */
#ifndef MQTTTY_PORT_LINK_H
#define MQTTTY_PORT_LINK_H

#include <stddef.h>

/* Make DIR/NAME a symlink to target, atomically (rename over a temporary
 * link), replacing a stale symlink but never anything else. The link path
 * is written to link (linklen bytes, PATH_MAX is enough), or "" on failure.
 * 0, or -1 with a sentence in err. */
int port_link_make(const char *dir, const char *name, const char *target, char *link,
		   size_t linklen, char *err, size_t errlen);

/* Remove link, but only if it still points at target (another gateway may
 * have taken the name meanwhile). A "" link is ignored. */
void port_link_remove(const char *link, const char *target);

/* Remove the temporaries port_link_make leaves behind when the process is
 * killed between symlink() and rename(): DIR/.NAME.PID.tmp where NAME is a
 * port name, PID a number that is not a running process (or is ours, or
 * the link is over a minute old), and the entry is a symlink. Nothing else
 * is touched. Returns how many were
 * removed (0 if DIR cannot be read). Call once at start-up. */
int port_link_clean(const char *dir);

#endif
