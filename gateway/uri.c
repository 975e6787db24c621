/* uri — parsed by hand because Paho only takes credentials from proxy URLs. */
#include "uri.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decode [s, s+n) into out (size outlen). -1 on a bad escape,
 * a NUL byte or overflow. */
static int pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
			if (c == 0)
				return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* The URI as it may be shown: any password replaced by "***". */
static void redact(const char *s, char *out, size_t len)
{
	const char *scheme = strstr(s, "://");
	const char *start = scheme ? scheme + 3 : s;
	const char *at = strrchr(start, '@');
	const char *colon = at ? memchr(start, ':', (size_t)(at - start)) : NULL;

	if (!colon)
		snprintf(out, len, "%.100s", s);
	else
		snprintf(out, len, "%.*s:***%.60s", (int)(colon - s) > 100 ? 100 : (int)(colon - s),
			 s, at);
}

int broker_uri_parse(const char *s, struct broker_uri *u, char *err, size_t errlen)
{
	const char *rest, *at, *hostp, *colon, *end;
	char portbuf[8], shown[200];

	memset(u, 0, sizeof(*u));
	redact(s, shown, sizeof(shown));
	if (strncmp(s, "mqtt://", 7) == 0) {
		rest = s + 7;
		u->port = 1883;
	} else if (strncmp(s, "mqtts://", 8) == 0) {
		rest = s + 8;
		u->tls = true;
		u->port = 8883;
	} else {
		snprintf(err, errlen, "broker URI \"%s\" must start with mqtt:// or mqtts://", shown);
		return -1;
	}
	end = rest + strcspn(rest, "/?#");
	if (*end && strcmp(end, "/") != 0) {
		snprintf(err, errlen, "broker URI \"%s\" must not have a path or query", shown);
		return -1;
	}
	at = memrchr(rest, '@', (size_t)(end - rest));
	hostp = rest;
	if (at) {
		const char *c = memchr(rest, ':', (size_t)(at - rest));
		const char *uend = c ? c : at;
		if (pct_decode(rest, (size_t)(uend - rest), u->user, sizeof(u->user)) < 0 ||
		    (c && pct_decode(c + 1, (size_t)(at - c - 1), u->pass, sizeof(u->pass)) < 0)) {
			snprintf(err, errlen, "broker URI has a badly percent-encoded user or password");
			return -1;
		}
		u->has_pass = c != NULL;
		hostp = at + 1;
	}
	if (*hostp == '[') {              /* [v6]:port */
		const char *rb = memchr(hostp, ']', (size_t)(end - hostp));
		if (!rb || rb == hostp + 1 || (size_t)(rb - hostp + 1) >= sizeof(u->host))
			goto badhost;
		memcpy(u->host, hostp, (size_t)(rb - hostp + 1));
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < end && !colon)
			goto badhost;
	} else {
		colon = memchr(hostp, ':', (size_t)(end - hostp));
		size_t hl = (size_t)((colon ? colon : end) - hostp);
		if (hl == 0 || hl >= sizeof(u->host))
			goto badhost;
		memcpy(u->host, hostp, hl);
		for (size_t i = 0; i < hl; i++)
			if (!isalnum((unsigned char)u->host[i]) && !strchr(".-_", u->host[i]))
				goto badhost;
	}
	if (colon) {
		size_t pl = (size_t)(end - colon - 1);
		char *e;
		long p;
		if (pl == 0 || pl >= sizeof(portbuf))
			goto badport;
		memcpy(portbuf, colon + 1, pl);
		portbuf[pl] = '\0';
		if (strspn(portbuf, "0123456789") != pl)
			goto badport;
		p = strtol(portbuf, &e, 10);
		if (*e || p < 1 || p > 65535)
			goto badport;
		u->port = (int)p;
	}
	snprintf(u->server, sizeof(u->server), "%s://%s:%d", u->tls ? "ssl" : "tcp",
		 u->host, u->port);
	snprintf(u->display, sizeof(u->display), "%s://%s%s%s:%d", u->tls ? "mqtts" : "mqtt",
		 u->user, u->user[0] ? "@" : "", u->host, u->port);
	return 0;
badhost:
	snprintf(err, errlen, "broker URI \"%s\" has no valid host", shown);
	return -1;
badport:
	snprintf(err, errlen, "broker URI \"%s\" has an invalid port (1-65535)", shown);
	return -1;
}
