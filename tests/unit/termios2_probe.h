/* termios2_probe.h — whether this system's ptys answer TCGETS2 (qemu-user
 * 7.2 answers ENOSYS), for the Linux termios unit tests. Call
 * probe_termios2() in main before the tests run. */
#ifndef MQTTTY_TEST_TERMIOS2_PROBE_H
#define MQTTTY_TEST_TERMIOS2_PROBE_H

#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

static bool sys_termios2;

static inline void probe_termios2(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	struct termios2 t;

	sys_termios2 = m >= 0 && ioctl(m, TCGETS2, &t) == 0;
	if (m >= 0)
		close(m);
}

#endif
