/* fuzz_options — `mqttty serve` options (options_parse) from a command line
 * and MQTTTY_* environment built from the input.
 *
 * Input: lines. A line "=K..." sets the environment variable number K (a
 * byte, modulo the table below) to the rest of the line; every other line
 * is one argument. HOME and the XDG variables point at a directory that
 * does not exist, so no default path is usable by chance.
 * Invariants: the result is one of the four codes with a message where one
 * is due; an accepted run has a usable broker URI, http port 1..65535 (or
 * off), a db and a link dir; nothing leaks (options_free on every path). */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "options.h"

static const char *const envs[] = {
	"MQTTTY_BROKER", "MQTTTY_CA_FILE", "MQTTTY_CERT", "MQTTTY_KEY", "MQTTTY_ID",
	"MQTTTY_PREFIX", "MQTTTY_DB", "MQTTTY_LINK_DIR", "MQTTTY_GROUP", "MQTTTY_HTTP",
	"MQTTTY_TLS_CERT", "MQTTTY_TLS_KEY", "MQTTTY_PORT", "MQTTTY_LOG_LEVEL",
	"MQTTTY_RX_HOLD", "HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY",
};
#define NENVS (sizeof(envs) / sizeof(envs[0]))
#define MAXARGS 64

/* getopt keeps a pointer into the last argv between calls: the strings live
 * in one static arena so that pointer never dangles. */
static char arena[8192];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	char *argv[MAXARGS + 2];
	int argc = 0;
	struct options o;
	char err[256];

	if (!once) {
		once = true;
		if (!freopen("/dev/null", "w", stdout))   /* --help, --version */
			abort();
	}
	if (size >= sizeof(arena))
		return 0;
	for (size_t i = 0; i < NENVS; i++)
		unsetenv(envs[i]);
	setenv("HOME", "/nonexistent-mqttty-fuzz", 1);
	memcpy(arena, data, size);
	arena[size] = '\0';
	argv[argc++] = "mqttty";
	char *line = arena, *end = arena + size;
	while (line <= end && argc < MAXARGS) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		if (nl)
			*nl = '\0';
		if (line[0] == '=' && line[1] != '\0') {
			const char *name = envs[(unsigned char)line[1] % NENVS];
			setenv(name, line + 2, 1);
		} else if (nl || line < end) {
			argv[argc++] = line;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	argv[argc] = NULL;

	err[0] = '\0';
	int rc = options_parse(&o, argc, argv, err, sizeof(err));
	fuzz_check(memchr(err, 0, sizeof(err)) != NULL, "err not terminated");
	fuzz_check(rc == OPT_OK || rc == OPT_EXIT_OK || rc == OPT_BAD || rc == OPT_FAIL,
		   "result %d", rc);
	fuzz_check(rc == OPT_OK || rc == OPT_EXIT_OK || err[0] != '\0', "no message for %d", rc);
	if (rc == OPT_OK) {
		fuzz_check(o.uri.host[0] != '\0' && o.uri.port >= 1 && o.uri.port <= 65535,
			   "accepted broker %s", o.uri.display);
		fuzz_check(o.http_off || (o.http_port >= 1 && o.http_port <= 65535),
			   "http port %d", o.http_port);
		fuzz_check(o.db && o.link_dir, "no db or link dir");
	}
	options_free(&o);
	return 0;
}
