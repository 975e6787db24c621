/* fuzz_uri — broker URIs (broker_uri_parse): mqtt[s]://[user[:pass]@]host[:port].
 *
 * Invariants: every output string is terminated; an accepted URI has a
 * host, a port 1..65535, a Paho server string tcp:// or ssl:// as its
 * scheme says, and a display form made of scheme, user, host and port
 * only (no password). */
#include <string.h>

#include "fuzz.h"
#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct broker_uri u;
	char err[256];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&u, 0x5a, sizeof(u));
	err[0] = '\0';
	int rc = broker_uri_parse(s, &u, err, sizeof(err));
	fuzz_check_err(rc, err);
	if (rc == 0) {
		fuzz_check(memchr(u.host, 0, sizeof(u.host)) && memchr(u.user, 0, sizeof(u.user)) &&
			   memchr(u.pass, 0, sizeof(u.pass)) && memchr(u.server, 0, sizeof(u.server)) &&
			   memchr(u.display, 0, sizeof(u.display)), "unterminated output");
		fuzz_check(u.host[0] != '\0', "no host in \"%s\"", s);
		fuzz_check(u.port >= 1 && u.port <= 65535, "port %d", u.port);
		fuzz_check(strncmp(u.server, u.tls ? "ssl://" : "tcp://", 6) == 0, "server %s",
			   u.server);
		/* what logs and the API show: scheme, user, host, port; never the
		 * password */
		char want[sizeof(u.display)];
		snprintf(want, sizeof(want), "%s://%s%s%s:%d", u.tls ? "mqtts" : "mqtt", u.user,
			 u.user[0] ? "@" : "", u.host, u.port);
		fuzz_check(strcmp(want, u.display) == 0, "display \"%s\"", u.display);
	}
	free(s);
	return 0;
}
