/* cmd_passwd — `mqttty passwd [--db PATH]`: read a password on stdin,
 * store its salted PBKDF2 hash, print a new API token (stored hashed). */
#include "cmds.h"
#include "options.h"
#include "store.h"
#include "web.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int read_password(char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

	if (tty) {
		fprintf(stderr, "new password: ");
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	char *ok = fgets(buf, (int)len, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fprintf(stderr, "\n");
	}
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

int cmd_passwd(int argc, char **argv)
{
	static const struct option lo[] = { { "db", required_argument, NULL, 'd' },
					     { "help", no_argument, NULL, 'h' }, { 0 } };
	char *db = getenv("MQTTTY_DB") ? strdup(getenv("MQTTTY_DB")) : NULL;
	char pw[1024], hash[256], token[80], thash[80], err[512];
	struct store *s = NULL;
	int c, rc = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'd') {
			free(db);
			db = strdup(optarg);
		} else if (c == 'h') {
			printf("usage: mqttty passwd [--db PATH]  (password on stdin)\n");
			free(db);
			return 0;
		} else {
			fprintf(stderr, "mqttty passwd: unknown option %s\n", argv[optind - 1]);
			free(db);
			return 2;
		}
	}
	if (!db && !(db = options_default_db())) {
		fprintf(stderr, "mqttty passwd: no default database path: give --db PATH\n");
		return 1;
	}
	if (read_password(pw, sizeof(pw)) < 0 || !pw[0]) {
		fprintf(stderr, "mqttty passwd: no password read from standard input\n");
		goto out;
	}
	if (strlen(pw) < 8)
		fprintf(stderr, "mqttty passwd: warning: a password of fewer than 8 characters "
			"is easy to guess\n");
	if (store_open(db, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty passwd: %s\n", err);
		goto out;
	}
	if (auth_hash_password(pw, hash, sizeof(hash)) < 0 ||
	    auth_new_token(token, sizeof(token), thash, sizeof(thash)) < 0) {
		fprintf(stderr, "mqttty passwd: cannot get random bytes from OpenSSL\n");
		goto out;
	}
	if (store_setting_set(s, "password_hash", hash, err, sizeof(err)) < 0 ||
	    store_token_add(s, thash, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty passwd: %s\n", err);
		goto out;
	}
	printf("%s\n", token);
	fprintf(stderr, "password set in %s; the line above is an API token "
		"(Authorization: Bearer TOKEN, or MQTTTY_TOKEN for `mqttty port`)\n", db);
	rc = 0;
out:
	memset(pw, 0, sizeof(pw));
	if (s)
		store_close(s);
	free(db);
	return rc;
}
