/* Unit tests for db/store.c on real SQLite files in a temporary directory.
 * Older and foreign files are made here with plain sqlite3 calls, as an
 * older mqttty or another program would have left them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define APP_ID "1836143705"     /* "mqTY", as the store writes it */

/* The v1 schema exactly as the first release created it. */
static const char v1_schema[] =
	"CREATE TABLE ports ("
	" name TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, device TEXT,"
	" baud INTEGER, data_bits INTEGER, parity TEXT, stop_bits INTEGER,"
	" flow TEXT, dtr INTEGER, rts INTEGER, peer TEXT, follow INTEGER,"
	" frame TEXT, qos INTEGER, enabled INTEGER);"
	"CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
	"PRAGMA application_id = " APP_ID ";"
	"PRAGMA user_version = 1;";

/* ---- fixture and helpers --------------------------------------------- */

struct fx {
	char dir[64];
	char path[128];
	char err[256];
	struct store *s;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int group_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/mqttty-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;
	int rc = nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return rc;
}

static int test_teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	f->s = NULL;
	f->err[0] = '\0';
	return 0;
}

/* f->path = DIR/NAME */
static const char *at(struct fx *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

static void open_ok(struct fx *f, const char *name)
{
	int rc = store_open(at(f, name), &f->s, f->err, sizeof(f->err));

	if (rc != STORE_OK)
		print_error("store_open: %s\n", f->err);
	assert_int_equal(rc, STORE_OK);
	assert_non_null(f->s);
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		print_error("sqlite3_exec: %s\n", msg);
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	return v;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Whole file, malloc'd (caller frees); *n = its size. */
static unsigned char *read_file(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = malloc(1 << 16);

	assert_non_null(fp);
	assert_non_null(buf);
	*n = fread(buf, 1, 1 << 16, fp);
	assert_true(feof(fp));
	fclose(fp);
	return buf;
}

static bool exists(const char *path, const char *suffix)
{
	char p[160];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

/* A failed open must leave the file exactly as it was, with no journal. */
static void open_fails_untouched(struct fx *f, const char *name, int want)
{
	unsigned char *before, *after;
	size_t nb, na;
	struct store *s = (struct store *)&s;   /* must be reset to NULL */

	before = read_file(at(f, name), &nb);
	assert_int_equal(store_open(f->path, &s, f->err, sizeof(f->err)), want);
	assert_null(s);
	assert_non_null(strstr(f->err, f->path));
	after = read_file(f->path, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	assert_false(exists(f->path, "-wal"));
	assert_false(exists(f->path, "-shm"));
	assert_false(exists(f->path, "-journal"));
	free(before);
	free(after);
}

/* A device port with every setting away from its default. */
static struct port_config radio(void)
{
	struct port_config c;

	port_config_defaults(&c);
	strcpy(c.name, "radio");
	c.kind = PORT_KIND_DEVICE;
	strcpy(c.device, "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0");
	c.baud = 115200;
	c.data_bits = 7;
	c.parity = PARITY_EVEN;
	c.stop_bits = 2;
	c.flow = FLOW_RTSCTS;
	c.dtr = true;
	c.rts = true;
	strcpy(c.peer, "home/rig");
	c.follow = true;
	c.frame.mode = FRAME_DELIM;
	c.frame.delim[0] = 0xFD;
	c.frame.delim_len = 1;
	c.frame.max = 512;
	c.qos = 0;
	c.enabled = false;
	return c;
}

/* A pty port with an idle frame. */
static struct port_config modem(void)
{
	struct port_config c;

	port_config_defaults(&c);
	strcpy(c.name, "Modem");
	c.baud = 300;
	c.data_bits = 5;
	c.parity = PARITY_MARK;
	c.flow = FLOW_XONXOFF;
	c.frame.mode = FRAME_IDLE;
	c.frame.idle_ms = 25;
	c.frame.max = 100;
	return c;
}

static void assert_port_equal(const struct port_config *a, const struct port_config *b)
{
	assert_string_equal(a->name, b->name);
	assert_true(port_config_equal(a, b));
}

struct seen {
	int n;
	struct port_config c[8];
};

static void collect(const struct port_config *c, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	s->c[s->n++] = *c;
}

/* ---- tests ----------------------------------------------------------- */

static void test_open_fresh(void **state)
{
	struct fx *f = *state;
	char dir[160];
	struct stat st;

	open_ok(f, "new/deeper/m.db");
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	snprintf(dir, sizeof(dir), "%s/new/deeper", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	store_close(f->s);
	f->s = NULL;
	/* WAL is a property of the file: a plain connection sees it. */
	assert_int_equal(raw_int(f->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	assert_int_equal(raw_int(f->path, "PRAGMA application_id"), atoi(APP_ID));
	/* Opening again is not a migration and keeps the version. */
	open_ok(f, "new/deeper/m.db");
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
}

static void test_port_round_trip(void **state)
{
	struct fx *f = *state;
	struct port_config r = radio(), m = modem(), z = modem(), got, def;
	struct seen seen = { 0 };

	/* Every field of radio() differs from the default, so each is tested. */
	port_config_defaults(&def);
	assert_true(r.kind != def.kind && r.baud != def.baud && r.data_bits != def.data_bits &&
		    r.parity != def.parity && r.stop_bits != def.stop_bits &&
		    r.flow != def.flow && r.dtr != def.dtr && r.rts != def.rts &&
		    r.follow != def.follow && r.frame.mode != def.frame.mode &&
		    r.frame.max != def.frame.max && r.qos != def.qos &&
		    r.enabled != def.enabled && r.device[0] && r.peer[0]);
	strcpy(z.name, "zeta");
	open_ok(f, "ports.db");
	assert_int_equal(store_port_add(f->s, &z, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_add(f->s, &r, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_add(f->s, &m, f->err, sizeof(f->err)), STORE_OK);

	assert_int_equal(store_port_get(f->s, "radio", &got, f->err, sizeof(f->err)), STORE_OK);
	assert_port_equal(&got, &r);
	assert_int_equal(got.frame.delim[0], 0xFD);
	assert_int_equal(store_port_get(f->s, "Modem", &got, f->err, sizeof(f->err)), STORE_OK);
	assert_port_equal(&got, &m);

	/* Sorted by name in byte order, as strcmp sorts. */
	assert_int_equal(store_port_list(f->s, collect, &seen, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(seen.n, 3);
	assert_port_equal(&seen.c[0], &m);
	assert_port_equal(&seen.c[1], &r);
	assert_port_equal(&seen.c[2], &z);

	/* Replace with other values, including a NUL delimiter byte and nulls. */
	r.frame.delim[0] = 0x00;
	r.frame.delim[1] = 0xFF;
	r.frame.delim[2] = '\n';
	r.frame.delim_len = 3;
	r.device[0] = '\0';
	r.peer[0] = '\0';
	r.kind = PORT_KIND_CUSE;
	r.parity = PARITY_SPACE;
	r.follow = false;
	r.enabled = true;
	assert_int_equal(store_port_put(f->s, &r, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_get(f->s, "radio", &got, f->err, sizeof(f->err)), STORE_OK);
	assert_port_equal(&got, &r);
	assert_int_equal(raw_int(f->path, "SELECT device IS NULL AND peer IS NULL FROM ports"
				 " WHERE name = 'radio'"), 1);

	assert_int_equal(store_port_del(f->s, "radio", f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_get(f->s, "radio", &got, f->err, sizeof(f->err)),
			 STORE_NOTFOUND);
	seen.n = 0;
	assert_int_equal(store_port_list(f->s, collect, &seen, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.c[0].name, "Modem");
	assert_string_equal(seen.c[1].name, "zeta");
}

static void test_port_duplicate(void **state)
{
	struct fx *f = *state;
	struct port_config r = radio(), again = modem(), got;

	open_ok(f, "dup.db");
	assert_int_equal(store_port_add(f->s, &r, f->err, sizeof(f->err)), STORE_OK);
	strcpy(again.name, r.name);
	assert_int_equal(store_port_add(f->s, &again, f->err, sizeof(f->err)), STORE_EXISTS);
	assert_non_null(strstr(f->err, "radio"));
	/* The stored row is the first one, untouched. */
	assert_int_equal(store_port_get(f->s, "radio", &got, f->err, sizeof(f->err)), STORE_OK);
	assert_port_equal(&got, &r);
}

static void test_port_missing(void **state)
{
	struct fx *f = *state;
	struct port_config m = modem(), got;
	struct seen seen = { 0 };

	open_ok(f, "missing.db");
	assert_int_equal(store_port_get(f->s, "Modem", &got, f->err, sizeof(f->err)),
			 STORE_NOTFOUND);
	assert_non_null(strstr(f->err, "Modem"));
	f->err[0] = '\0';
	assert_int_equal(store_port_put(f->s, &m, f->err, sizeof(f->err)), STORE_NOTFOUND);
	assert_non_null(strstr(f->err, "Modem"));
	f->err[0] = '\0';
	assert_int_equal(store_port_del(f->s, "Modem", f->err, sizeof(f->err)), STORE_NOTFOUND);
	assert_non_null(strstr(f->err, "Modem"));
	/* The failed put did not create the row. */
	assert_int_equal(store_port_list(f->s, collect, &seen, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(seen.n, 0);
}

static void test_port_bad_name_refused(void **state)
{
	struct fx *f = *state;
	struct port_config m = modem();

	open_ok(f, "badname.db");
	strcpy(m.name, "../etc");
	assert_int_equal(store_port_add(f->s, &m, f->err, sizeof(f->err)), STORE_ERR);
	assert_non_null(strstr(f->err, "../etc"));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM ports"), 0);
}

static void test_settings(void **state)
{
	struct fx *f = *state;
	char *v = NULL;

	open_ok(f, "settings.db");
	assert_int_equal(store_setting_get(f->s, "password_hash", &v, f->err, sizeof(f->err)),
			 STORE_NOTFOUND);
	assert_null(v);
	assert_int_equal(store_setting_set(f->s, "password_hash", "$one", f->err,
					   sizeof(f->err)), STORE_OK);
	assert_int_equal(store_setting_set(f->s, "other", "x", f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_setting_get(f->s, "password_hash", &v, f->err, sizeof(f->err)),
			 STORE_OK);
	assert_string_equal(v, "$one");
	free(v);
	assert_int_equal(store_setting_set(f->s, "password_hash", "'; DROP TABLE settings; --",
					   f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_setting_get(f->s, "password_hash", &v, f->err, sizeof(f->err)),
			 STORE_OK);
	assert_string_equal(v, "'; DROP TABLE settings; --");
	free(v);
	assert_int_equal(store_setting_del(f->s, "password_hash", f->err, sizeof(f->err)),
			 STORE_OK);
	v = NULL;
	assert_int_equal(store_setting_get(f->s, "password_hash", &v, f->err, sizeof(f->err)),
			 STORE_NOTFOUND);
	assert_null(v);
	assert_int_equal(store_setting_del(f->s, "password_hash", f->err, sizeof(f->err)),
			 STORE_NOTFOUND);
	/* Other keys are not affected. */
	assert_int_equal(store_setting_get(f->s, "other", &v, f->err, sizeof(f->err)), STORE_OK);
	assert_string_equal(v, "x");
	free(v);
}

static void test_tokens(void **state)
{
	struct fx *f = *state;
	const char *h1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	const char *h2 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

	open_ok(f, "tokens.db");
	assert_int_equal(store_token_exists(f->s, h1), 0);
	assert_int_equal(store_token_add(f->s, h1, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_token_exists(f->s, h1), 1);
	assert_int_equal(store_token_exists(f->s, h2), 0);
	assert_int_equal(store_token_add(f->s, h1, f->err, sizeof(f->err)), STORE_EXISTS);
	assert_int_equal(store_token_add(f->s, h2, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_token_exists(f->s, h2), 1);
	/* created is a plausible unix time (after 2020). */
	assert_true(raw_int(f->path, "SELECT min(created) > 1577836800 FROM tokens") == 1);
}

static void test_migrate_empty_file(void **state)
{
	struct fx *f = *state;
	struct port_config m = modem(), got;

	write_file(at(f, "empty.db"), "", 0);
	open_ok(f, "empty.db");
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_port_add(f->s, &m, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_get(f->s, "Modem", &got, f->err, sizeof(f->err)), STORE_OK);
	assert_port_equal(&got, &m);
}

/* The port row test_migrate_v1 stores by hand, as a struct. */
static struct port_config v1_port(void)
{
	struct port_config c;

	port_config_defaults(&c);
	strcpy(c.name, "old");
	c.kind = PORT_KIND_DEVICE;
	strcpy(c.device, "/dev/ttyS0");
	c.baud = 57600;
	c.data_bits = 7;
	c.parity = PARITY_ODD;
	c.stop_bits = 2;
	c.flow = FLOW_XONXOFF;
	c.dtr = true;
	strcpy(c.peer, "gw/x");
	c.follow = true;
	c.frame.mode = FRAME_DELIM;
	c.frame.delim[0] = '\r';
	c.frame.delim[1] = '\n';
	c.frame.delim_len = 2;
	c.frame.max = 256;
	c.qos = 0;
	return c;
}

static void test_migrate_v1(void **state)
{
	struct fx *f = *state;
	struct port_config want = v1_port(), got;
	char *v = NULL;

	raw_exec(at(f, "v1.db"), v1_schema);
	raw_exec(f->path, "INSERT INTO ports VALUES ('old', 'device', '/dev/ttyS0', 57600, 7,"
		 " 'odd', 2, 'xonxoff', 1, 0, 'gw/x', 1,"
		 " '{\"mode\":\"delim\",\"delim\":\"\\r\\n\",\"max\":256}', 0, 1);"
		 "INSERT INTO settings VALUES ('password_hash', '$scrypt$abc');");
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);

	open_ok(f, "v1.db");
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_port_get(f->s, "old", &got, f->err, sizeof(f->err)), STORE_OK);
	assert_port_equal(&got, &want);
	assert_int_equal(store_setting_get(f->s, "password_hash", &v, f->err, sizeof(f->err)),
			 STORE_OK);
	assert_string_equal(v, "$scrypt$abc");
	free(v);
	assert_int_equal(store_token_exists(f->s, "ab"), 0);
	assert_int_equal(store_token_add(f->s, "ab", f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_token_exists(f->s, "ab"), 1);
}

/* A step that fails is rolled back whole: the file stays at version 1. */
static void test_migrate_failure_rolls_back(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;

	raw_exec(at(f, "clash.db"), v1_schema);
	raw_exec(f->path, "CREATE TABLE tokens (x);"
		 "INSERT INTO settings VALUES ('k', 'v');");
	assert_int_equal(store_open(f->path, &s, f->err, sizeof(f->err)), STORE_ERR);
	assert_null(s);
	assert_non_null(strstr(f->err, f->path));
	assert_non_null(strstr(f->err, "version 2"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM settings WHERE value = 'v'"), 1);
}

static void test_corrupt_random(void **state)
{
	struct fx *f = *state;
	unsigned char junk[4096];
	FILE *rnd = fopen("/dev/urandom", "rb");

	assert_non_null(rnd);
	assert_int_equal(fread(junk, 1, sizeof(junk), rnd), sizeof(junk));
	fclose(rnd);
	/* Make sure it does not start with SQLite's magic by chance. */
	junk[0] = 'X';
	write_file(at(f, "random.db"), junk, sizeof(junk));
	open_fails_untouched(f, "random.db", STORE_ERR);
	assert_non_null(strstr(f->err, "not an mqttty database"));
}

static void test_corrupt_text(void **state)
{
	struct fx *f = *state;
	const char text[] = "[mqttty]\nbroker = mqtt://localhost\n";

	write_file(at(f, "text.db"), text, sizeof(text) - 1);
	open_fails_untouched(f, "text.db", STORE_ERR);
	assert_non_null(strstr(f->err, "not an mqttty database"));
}

/* A real mqttty file with a trashed table page: refused at open. */
static void test_damaged_file(void **state)
{
	struct fx *f = *state;
	struct port_config m = modem();
	unsigned char junk[512];
	FILE *fp;

	open_ok(f, "damaged.db");
	assert_int_equal(store_port_add(f->s, &m, f->err, sizeof(f->err)), STORE_OK);
	store_close(f->s);
	f->s = NULL;
	memset(junk, 0xA5, sizeof(junk));
	/* Page 2 (the ports table with the default 4096-byte pages). */
	fp = fopen(f->path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 4096, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	assert_int_equal(fclose(fp), 0);
	open_fails_untouched(f, "damaged.db", STORE_ERR);
	assert_non_null(strstr(f->err, "damaged"));
}

static void test_too_new(void **state)
{
	struct fx *f = *state;

	raw_exec(at(f, "future.db"), "CREATE TABLE future (x);"
		 "PRAGMA application_id = " APP_ID "; PRAGMA user_version = 99;");
	open_fails_untouched(f, "future.db", STORE_TOONEW);
	assert_non_null(strstr(f->err, "99"));
}

static void test_foreign_database(void **state)
{
	struct fx *f = *state;

	/* Version 0 with tables: somebody else's database. */
	raw_exec(at(f, "other0.db"), "CREATE TABLE notes (t); INSERT INTO notes VALUES ('hi');");
	open_fails_untouched(f, "other0.db", STORE_ERR);
	assert_non_null(strstr(f->err, "not an mqttty database"));
	/* A program that uses user_version too, without our application_id. */
	raw_exec(at(f, "other1.db"), "CREATE TABLE ports (x); PRAGMA user_version = 1;");
	open_fails_untouched(f, "other1.db", STORE_ERR);
	assert_non_null(strstr(f->err, "not an mqttty database"));
}

static void test_path_not_a_file(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;

	assert_int_equal(mkdir(at(f, "adir.db"), 0700), 0);
	assert_int_equal(store_open(f->path, &s, f->err, sizeof(f->err)), STORE_ERR);
	assert_null(s);
	assert_non_null(strstr(f->err, f->path));
	/* SQLite would block forever reading a FIFO. */
	assert_int_equal(mkfifo(at(f, "fifo.db"), 0600), 0);
	assert_int_equal(store_open(f->path, &s, f->err, sizeof(f->err)), STORE_ERR);
	assert_null(s);
	assert_non_null(strstr(f->err, "not a regular file"));
}

/* A relative "file:..." name is a file name, not an SQLite URI. */
static void test_relative_path(void **state)
{
	struct fx *f = *state;
	struct port_config m = modem();
	char cwd[4096];
	struct stat st;
	int rc;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	rc = store_open("file:rel.db", &f->s, f->err, sizeof(f->err));
	if (rc == STORE_OK)
		rc = store_port_add(f->s, &m, f->err, sizeof(f->err));
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, STORE_OK);
	assert_int_equal(stat(at(f, "file:rel.db"), &st), 0);
	assert_true(st.st_size > 0);
	assert_false(exists(at(f, "rel.db"), ""));
}

static void test_unreadable_file(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;

	if (geteuid() == 0)
		skip();         /* root opens a mode 000 file anyway */
	write_file(at(f, "locked.db"), "", 0);
	assert_int_equal(chmod(f->path, 0), 0);
	assert_int_equal(store_open(f->path, &s, f->err, sizeof(f->err)), STORE_ERR);
	assert_null(s);
	assert_non_null(strstr(f->err, f->path));
	assert_non_null(strstr(f->err, strerror(EACCES)));
}

/* Rows edited behind the store's back must give STORE_ERR naming the port,
 * for get and for list (which then calls back for no port at all). */
static void test_invalid_rows(void **state)
{
	static const struct { const char *sql; bool name_ok; } cases[] = {
		{ "UPDATE ports SET parity = 'bogus'", true },
		{ "UPDATE ports SET kind = 'serial'", true },
		{ "UPDATE ports SET flow = NULL", true },
		{ "UPDATE ports SET baud = 'fast'", true },
		{ "UPDATE ports SET baud = 0", true },
		{ "UPDATE ports SET baud = 4294967296", true },
		{ "UPDATE ports SET data_bits = 9", true },
		{ "UPDATE ports SET stop_bits = 3", true },
		{ "UPDATE ports SET dtr = 2", true },
		{ "UPDATE ports SET qos = NULL", true },
		{ "UPDATE ports SET enabled = 1.5", true },
		{ "UPDATE ports SET device = printf('/%0300d', 1)", true },
		{ "UPDATE ports SET peer = x'00ff'", true },
		{ "UPDATE ports SET frame = '{\"mode\":\"raw\"'", true },
		{ "UPDATE ports SET frame = '{\"mode\":\"delim\"}'", true },
		{ "UPDATE ports SET frame = NULL", true },
		{ "UPDATE ports SET name = '../evil'", false },
	};
	struct fx *f = *state;
	struct port_config r = radio(), a = modem(), got;
	struct seen seen = { 0 };
	char name[32], sql[128];
	size_t i;

	strcpy(a.name, "a-first");       /* listed before "radio" */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "invalid-%zu.db", i);
		open_ok(f, name);
		assert_int_equal(store_port_add(f->s, &a, f->err, sizeof(f->err)), STORE_OK);
		assert_int_equal(store_port_add(f->s, &r, f->err, sizeof(f->err)), STORE_OK);
		snprintf(sql, sizeof(sql), "%s WHERE name = 'radio'", cases[i].sql);
		raw_exec(f->path, sql);
		if (cases[i].name_ok) {
			f->err[0] = '\0';
			assert_int_equal(store_port_get(f->s, "radio", &got, f->err,
							sizeof(f->err)), STORE_ERR);
			assert_non_null(strstr(f->err, "'radio'"));
		}
		f->err[0] = '\0';
		seen.n = 0;
		assert_int_equal(store_port_list(f->s, collect, &seen, f->err, sizeof(f->err)),
				 STORE_ERR);
		assert_int_equal(seen.n, 0);
		if (!strstr(f->err, cases[i].name_ok ? "'radio'" : "'../evil'"))
			fail_msg("%s: %s", cases[i].sql, f->err);
		/* The valid port is still readable. */
		assert_int_equal(store_port_get(f->s, "a-first", &got, f->err, sizeof(f->err)),
				 STORE_OK);
		store_close(f->s);
		f->s = NULL;
	}
}

/* The list callback may use the store: the read is over by then. */
static void del_each(const struct port_config *c, void *arg)
{
	struct fx *f = arg;

	assert_int_equal(store_port_del(f->s, c->name, f->err, sizeof(f->err)), STORE_OK);
}

static void test_list_callback_reenters(void **state)
{
	struct fx *f = *state;
	struct port_config r = radio(), m = modem();
	struct seen seen = { 0 };

	open_ok(f, "reenter.db");
	assert_int_equal(store_port_add(f->s, &r, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_add(f->s, &m, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_list(f->s, del_each, f, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(store_port_list(f->s, collect, &seen, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(seen.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_teardown(fn, test_teardown)
		T(test_open_fresh),
		T(test_port_round_trip),
		T(test_port_duplicate),
		T(test_port_missing),
		T(test_port_bad_name_refused),
		T(test_settings),
		T(test_tokens),
		T(test_migrate_empty_file),
		T(test_migrate_v1),
		T(test_migrate_failure_rolls_back),
		T(test_corrupt_random),
		T(test_corrupt_text),
		T(test_damaged_file),
		T(test_too_new),
		T(test_foreign_database),
		T(test_path_not_a_file),
		T(test_relative_path),
		T(test_unreadable_file),
		T(test_invalid_rows),
		T(test_list_callback_reenters),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
