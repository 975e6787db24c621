/* fuzz_topic — topics from the broker (topic_parse), MQTT filters
 * (topic_match) and prefixes (topic_prefix_check).
 *
 * Input: prefix, topic and filter separated by NUL bytes.
 * Invariants: a parsed topic's parts have no '/' and rebuild the topic
 * (topic_port); a topic without wildcards matches itself as a filter; "#"
 * matches every topic not starting with '$'; a topic never matches a filter
 * one level longer that ends in a plain level. */
#include <string.h>

#include "fuzz.h"
#include "topic.h"

static char *part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s = *p, *z = memchr(s, 0, (size_t)(end - s));
	size_t n = z ? (size_t)(z - s) : (size_t)(end - s);
	char *out = malloc(n + 1);
	if (!out)
		abort();
	memcpy(out, s, n);
	out[n] = '\0';
	*p = z ? z + 1 : end;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *prefix = part(&p, end), *topic = part(&p, end), *filter = part(&p, end);
	char err[256];
	size_t tl = strlen(topic);
	char *scratch = malloc(tl + 1);
	const char *gw, *port, *leaf;

	err[0] = '\0';
	int rc = topic_prefix_check(prefix, err, sizeof(err));
	fuzz_check_err(rc, err);
	if (scratch && topic_parse(topic, prefix, scratch, &gw, &port, &leaf) == 0) {
		fuzz_check(!strchr(gw, '/') && !strchr(port, '/') && !strchr(leaf, '/'),
			   "parts of \"%s\" hold a '/'", topic);
		char rebuilt[TOPIC_MAX * 2];
		int n = topic_port(rebuilt, sizeof(rebuilt), prefix, gw, port, leaf);
		if (n >= 0)
			fuzz_check(strcmp(rebuilt, topic) == 0, "\"%s\" rebuilt as \"%s\"", topic,
				   rebuilt);
	}
	(void)topic_match(filter, topic);
	(void)topic_match(topic, filter);
	if (!strpbrk(topic, "+#")) {
		fuzz_check(topic_match(topic, topic), "\"%s\" does not match itself", topic);
		if (topic[0] != '$')
			fuzz_check(topic_match("#", topic), "\"#\" does not match \"%s\"", topic);
		char *longer = malloc(tl + 3);
		if (longer) {
			memcpy(longer, topic, tl);
			memcpy(longer + tl, "/x", 3);
			fuzz_check(!topic_match(longer, topic), "\"%s\" matches \"%s\"", longer,
				   topic);
			free(longer);
		}
	}
	char buf[TOPIC_MAX];
	(void)topic_gateway(buf, sizeof(buf), prefix, topic, filter);
	free(scratch);
	free(prefix);
	free(topic);
	free(filter);
	return 0;
}
