/* libFuzzer target for the two RFC 2217 address parsers:
 * port_rfc2217_parse_url ("rfc2217://HOST:PORT", a port's device) and
 * rfc2217_srv_addr_parse ("ADDR:PORT", the listener). Beyond "no crash":
 * what a parser accepts is well formed, and parses again to the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_rfc2217.h"
#include "rfc2217_srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void url(const char *s)
{
	char host[RFC2217_HOST_MAX + 1], svc[6], err[256], again[300];
	char host2[RFC2217_HOST_MAX + 1], svc2[6];
	long port;

	if (port_rfc2217_parse_url(s, host, svc, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();        /* a refusal always says why */
		return;
	}
	port = strtol(svc, NULL, 10);
	if (!host[0] || port < 1 || port > 65535 || strpbrk(host, "/?#@ "))
		abort();
	snprintf(again, sizeof(again), strchr(host, ':') ? "rfc2217://[%s]:%s" : "rfc2217://%s:%s",
		 host, svc);
	if (port_rfc2217_parse_url(again, host2, svc2, err, sizeof(err)) < 0 ||
	    strcmp(host, host2) != 0 || strcmp(svc, svc2) != 0)
		abort();
}

static void addr(const char *s)
{
	struct sockaddr_storage ss;
	bool loopback;
	char err[256];

	err[0] = '\0';
	if (rfc2217_srv_addr_parse(s, &ss, &loopback, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		return;
	}
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	url(s);
	addr(s);
	free(s);
	return 0;
}
