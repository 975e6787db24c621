/* fuzz_port_config — API bodies through the field table
 * (port_config_apply_json), as POST (create) and as PATCH (merge patch)
 * over a few existing ports.
 *
 * Input: byte 0 picks the mode and the existing port; the rest is the body,
 * parsed the way web/api.c parses it.
 * Invariants: a refused body leaves the config byte for byte as it was
 * (CONTRACT §4: bad input never changes stored data) with a sentence; an
 * accepted one yields a valid name, and what GET shows for it
 * (port_config_to_json) is itself accepted by POST and gives the same port. */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "port_config.h"

static void base_port(struct port_config *c, unsigned which)
{
	char err[256];
	static const char *const bases[] = {
		"{\"name\":\"p1\"}",
		"{\"name\":\"dev\",\"kind\":\"device\",\"device\":\"/dev/ttyUSB0\","
		"\"baud\":115200,\"peer\":\"gw2/p9\",\"follow\":true,\"dtr\":true}",
		"{\"name\":\"d\",\"frame\":{\"mode\":\"delim\",\"delim\":\"\\r\\n\",\"max\":16}}",
		"{\"name\":\"i\",\"frame\":{\"mode\":\"idle\",\"idle_ms\":5},\"qos\":0,"
		"\"enabled\":false}",
	};
	json_t *j = json_loads(bases[which % 4], 0, NULL);

	port_config_defaults(c);
	if (!j || port_config_apply_json(c, j, true, "gw1", err, sizeof(err)) != 0)
		fuzz_fail("base port %u refused: %s", which % 4, err);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct port_config c, before, again;
	char err[256];
	json_error_t je;

	if (size < 1)
		return 0;
	unsigned mode = data[0];
	bool create = (mode & 1) == 0;
	json_t *body = json_loadb((const char *)data + 1, size - 1,
				  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!body)
		return 0;
	if (create)
		port_config_defaults(&c);
	else
		base_port(&c, mode >> 1);
	if (mode & 0x80)
		strcpy(c.name, "preset");   /* a create where the URL names the port */
	before = c;
	err[0] = '\0';
	int rc = port_config_apply_json(&c, body, create, "gw1", err, sizeof(err));
	fuzz_check_err(rc, err);
	if (rc != 0) {
		fuzz_check(memcmp(&c, &before, sizeof(c)) == 0,
			   "a refused body (%s) changed the config", err);
		json_decref(body);
		return 0;
	}
	char nerr[128];
	fuzz_check(port_name_check(c.name, nerr, sizeof(nerr)) == 0,
		   "accepted a bad name \"%s\"", c.name);
	fuzz_check(c.frame.max >= 1 && c.frame.max <= FRAME_MAX_LIMIT, "frame.max %u",
		   c.frame.max);
	fuzz_check(c.qos == 0 || c.qos == 1, "qos %d", c.qos);

	/* what GET shows is accepted by POST and gives the same port */
	json_t *shown = port_config_to_json(&c);
	fuzz_check(shown != NULL, "port_config_to_json failed");
	port_config_defaults(&again);
	if (port_config_apply_json(&again, shown, true, "gw1", err, sizeof(err)) != 0) {
		char *s = json_dumps(shown, JSON_COMPACT);
		fuzz_fail("the port as shown is refused by create: %s: %s", err, s ? s : "?");
	}
	fuzz_check(port_config_equal(&c, &again), "the port as shown creates another port");
	json_t *schema = port_config_schema_json();
	json_decref(schema);
	json_decref(shown);
	json_decref(body);
	return 0;
}
