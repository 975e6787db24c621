/* topic — pure string work, no allocation. */
#include "topic.h"

#include <stdio.h>
#include <string.h>

int topic_gateway(char *buf, size_t len, const char *prefix, const char *id, const char *leaf)
{
	int n = snprintf(buf, len, "%s/%s/%s", prefix, id, leaf);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int topic_port(char *buf, size_t len, const char *prefix, const char *gw,
	       const char *port, const char *leaf)
{
	int n = snprintf(buf, len, "%s/%s/%s/%s", prefix, gw, port, leaf);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int topic_parse(const char *topic, const char *prefix, char *scratch,
		const char **gw, const char **port, const char **leaf)
{
	size_t plen = strlen(prefix);
	char *p, *s1, *s2;

	if (strncmp(topic, prefix, plen) != 0 || topic[plen] != '/')
		return -1;
	strcpy(scratch, topic + plen + 1);
	p = scratch;
	if (!(s1 = strchr(p, '/')) || !(s2 = strchr(s1 + 1, '/')) || strchr(s2 + 1, '/'))
		return -1;
	*s1 = '\0';
	*s2 = '\0';
	if (!*p || !s1[1] || !s2[1])
		return -1;
	*gw = p;
	*port = s1 + 1;
	*leaf = s2 + 1;
	return 0;
}

int topic_prefix_check(const char *prefix, char *err, size_t errlen)
{
	size_t n = strlen(prefix);

	if (n == 0 || n > 256 || prefix[0] == '/' || prefix[n - 1] == '/' ||
	    strstr(prefix, "//") || strpbrk(prefix, "+#")) {
		snprintf(err, errlen, "prefix \"%.64s\" must be 1-256 bytes of topic levels "
			 "without '+', '#', empty levels or a leading/trailing '/'", prefix);
		return -1;
	}
	return 0;
}

bool topic_match(const char *f, const char *t)
{
	if (t[0] == '$' && (f[0] == '+' || f[0] == '#'))
		return false;
	for (;;) {
		if (f[0] == '#' && f[1] == '\0')
			return true;            /* the rest, even nothing after a '/' */
		if (f[0] == '+') {
			while (*t && *t != '/')
				t++;
			f++;
		} else {
			while (*f && *f != '/' && *f == *t) {
				f++;
				t++;
			}
			if ((*f && *f != '/') || (*t && *t != '/'))
				return false;
		}
		if (!*f && !*t)
			return true;
		if (*f != '/' || *t != '/') {
			/* "a/#" also matches "a" */
			return !*t && f[0] == '/' && f[1] == '#' && f[2] == '\0';
		}
		f++;
		t++;
	}
}
