/* cmd_passwd — `mqttty passwd [--db PATH]`: read a password on stdin,
 * store its salted PBKDF2 hash, print a new API token (stored hashed). */
#include "cmds.h"
#include "options.h"
#include "store.h"
#include "crypto.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* One line from stdin into buf; its length (without the newline) in *n.
 * A NUL byte inside is kept, so the caller can refuse it. */
static int read_password(char *buf, size_t len, size_t *n)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

	if (tty) {
		fprintf(stderr, "new password: ");
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	size_t i = 0;
	int c;
	while (i + 1 < len && (c = getchar()) != EOF && c != '\n')
		buf[i++] = (char)c;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fprintf(stderr, "\n");
	}
	if (i && buf[i - 1] == '\r')
		i--;
	buf[i] = '\0';
	*n = i;
	return i + 1 < len ? 0 : -1;
}

int cmd_passwd(int argc, char **argv)
{
	static const struct option lo[] = { { "db", required_argument, NULL, 'd' },
					     { "help", no_argument, NULL, 'h' }, { 0 } };
	char *db = getenv("MQTTTY_DB") ? strdup(getenv("MQTTTY_DB")) : NULL;
	char pw[1024], hash[CRYPTO_HASH_MAX], token[CRYPTO_HEX64], thash[CRYPTO_HEX64], err[512];
	size_t pwlen = 0;
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
	if (read_password(pw, sizeof(pw), &pwlen) < 0 || !pwlen) {
		fprintf(stderr, "mqttty passwd: no password read from standard input (one line, "
			"at most %zu bytes)\n", sizeof(pw) - 2);
		goto out;
	}
	if (memchr(pw, '\0', pwlen)) {
		/* a browser or JSON client could never send it back (contract §5) */
		fprintf(stderr, "mqttty passwd: the password holds a NUL byte; choose another\n");
		goto out;
	}
	if (pwlen < 8)
		fprintf(stderr, "mqttty passwd: warning: a password of fewer than 8 characters "
			"is easy to guess\n");
	if (store_open(db, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "mqttty passwd: %s\n", err);
		goto out;
	}
	if (crypto_password_hash(pw, pwlen, hash, sizeof(hash)) < 0 ||
	    crypto_token_new(token, thash) < 0) {
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
