/* cmd_port — placeholder until the API client lands. */
#include "cmds.h"

#include <stdio.h>

int cmd_port(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mqttty port: not built yet\n");
	return 1;
}
