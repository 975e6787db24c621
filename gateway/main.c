/* mqttty — entry point and composition root: subcommand dispatch, and the
 * parts that run beside the gateway (the web server observes it). */
#include "options.h"
#include "gateway.h"
#include "cmds.h"
#include "web.h"
#include "ha_discovery.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static const struct gw_module modules[] = {
	{ "web", web_start, web_stop, web_free },
	{ "ha", ha_discovery_start, ha_discovery_stop, NULL },
};

static int cmd_serve(int argc, char **argv)
{
	struct options o;
	char err[512] = "";
	int rc = options_parse(&o, argc, argv, err, sizeof(err));

	if (rc == OPT_OK)
		rc = gateway_run(&o, modules, sizeof(modules) / sizeof(modules[0]));
	else if (rc == OPT_EXIT_OK)
		rc = 0;
	else {
		log_plain(LOG_ERROR, "mqttty: %s", err);
		rc = rc == OPT_BAD ? 2 : 1;
	}
	options_free(&o);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "passwd") == 0)
		return cmd_passwd(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "port") == 0)
		return cmd_port(argc - 1, argv + 1);
	return cmd_serve(argc, argv);
}
