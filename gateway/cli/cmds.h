/* cmds — subcommands other than serve. Each returns the exit status. */
#ifndef MQTTTY_CMDS_H
#define MQTTTY_CMDS_H

int cmd_passwd(int argc, char **argv);
/* `mqttty port list|add|set|rm`, a client of the running gateway's API. */
int cmd_port(int argc, char **argv);

#endif
