/* termios_speeds.h — the standard line speeds, listed once for the two
 * headers that name them and cannot be included together: the system's
 * <termios.h> (speed_t values: termios_map.c) and Linux's <asm/termbits.h>
 * (the kernel's CBAUD codes: termios2_map.c).
 *
 * No include guard: include it inside an array initializer with
 * TERMIOS_SPEED(n) defined; an entry is there only where the includer's
 * header has Bn. POSIX names B50..B38400; the rest are extensions (Linux
 * has up to B4000000, macOS adds B7200, B14400, B28800, B76800). */
TERMIOS_SPEED(50)
TERMIOS_SPEED(75)
TERMIOS_SPEED(110)
TERMIOS_SPEED(134)
TERMIOS_SPEED(150)
TERMIOS_SPEED(200)
TERMIOS_SPEED(300)
TERMIOS_SPEED(600)
TERMIOS_SPEED(1200)
TERMIOS_SPEED(1800)
TERMIOS_SPEED(2400)
TERMIOS_SPEED(4800)
#ifdef B7200
TERMIOS_SPEED(7200)
#endif
TERMIOS_SPEED(9600)
#ifdef B14400
TERMIOS_SPEED(14400)
#endif
TERMIOS_SPEED(19200)
#ifdef B28800
TERMIOS_SPEED(28800)
#endif
TERMIOS_SPEED(38400)
#ifdef B57600
TERMIOS_SPEED(57600)
#endif
#ifdef B76800
TERMIOS_SPEED(76800)
#endif
#ifdef B115200
TERMIOS_SPEED(115200)
#endif
#ifdef B230400
TERMIOS_SPEED(230400)
#endif
#ifdef B460800
TERMIOS_SPEED(460800)
#endif
#ifdef B500000
TERMIOS_SPEED(500000)
#endif
#ifdef B576000
TERMIOS_SPEED(576000)
#endif
#ifdef B921600
TERMIOS_SPEED(921600)
#endif
#ifdef B1000000
TERMIOS_SPEED(1000000)
#endif
#ifdef B1152000
TERMIOS_SPEED(1152000)
#endif
#ifdef B1500000
TERMIOS_SPEED(1500000)
#endif
#ifdef B2000000
TERMIOS_SPEED(2000000)
#endif
#ifdef B2500000
TERMIOS_SPEED(2500000)
#endif
#ifdef B3000000
TERMIOS_SPEED(3000000)
#endif
#ifdef B3500000
TERMIOS_SPEED(3500000)
#endif
#ifdef B4000000
TERMIOS_SPEED(4000000)
#endif
