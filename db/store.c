/* store — ports, settings and API tokens in one SQLite file.
 *
 * Opening is careful about files that are not ours: the header (user_version,
 * application_id, the list of tables) is read first and nothing is written
 * until the file is known to be an mqttty database or an empty one, so a
 * mistyped --db never damages another program's data. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* PRAGMA application_id of our files: 0x6d715459, "mqTY". SQL wants it in
 * decimal. */
#define STORE_APP_ID 1836143705
#define STR_(x) #x
#define STR(x) STR_(x)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Step N turns a version N-1 file into version N, inside one BEGIN IMMEDIATE
 * transaction together with the user_version bump. A released step is never
 * edited: add a step and bump STORE_SCHEMA_VERSION instead. There are no
 * CHECK constraints on purpose: the valid values live in port_config.c, and
 * read_port() rejects a row that does not fit them. */
static const char *const migrations[] = {
	[0] = NULL,
	[1] = "CREATE TABLE ports ("
	      " name TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, device TEXT,"
	      " baud INTEGER, data_bits INTEGER, parity TEXT, stop_bits INTEGER,"
	      " flow TEXT, dtr INTEGER, rts INTEGER, peer TEXT, follow INTEGER,"
	      " frame TEXT, qos INTEGER, enabled INTEGER);"
	      "CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
	      "PRAGMA application_id = " STR(STORE_APP_ID) ";",
	[2] = "CREATE TABLE tokens (hash TEXT PRIMARY KEY NOT NULL, created INTEGER NOT NULL);",
	[3] = "ALTER TABLE ports ADD COLUMN rfc2217 TEXT;",
};
_Static_assert(NELEM(migrations) == STORE_SCHEMA_VERSION + 1,
	       "one migration step per schema version");

enum stmt_id {
	ST_PORT_LIST, ST_PORT_GET, ST_PORT_ADD, ST_PORT_PUT, ST_PORT_DEL,
	ST_SET_GET, ST_SET_SET, ST_SET_DEL, ST_TOKEN_ADD, ST_TOKEN_HAS, ST_COUNT
};

/* "Already there" and "not there" come from the changed-row count rather
 * than from constraint errors, so any real error stays an error. */
static const char *const stmt_sql[ST_COUNT] = {
	/* ST_PORT_LIST .. ST_PORT_PUT are built from the field table: port_sql() */
	[ST_PORT_DEL] = "DELETE FROM ports WHERE name = ?1",
	[ST_SET_GET] = "SELECT value FROM settings WHERE key = ?1",
	[ST_SET_SET] = "INSERT INTO settings (key, value) VALUES (?1, ?2)"
		       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[ST_SET_DEL] = "DELETE FROM settings WHERE key = ?1",
	[ST_TOKEN_ADD] = "INSERT INTO tokens (hash, created) VALUES (?1, ?2)"
			 " ON CONFLICT (hash) DO NOTHING",
	[ST_TOKEN_HAS] = "SELECT 1 FROM tokens WHERE hash = ?1",
};

struct store {
	sqlite3 *db;                    /* owned */
	char *path;                     /* owned; for messages */
	sqlite3_stmt *stmt[ST_COUNT];   /* owned; prepared on first use */
	char *port_sql[ST_PORT_DEL];    /* owned; SQL of the port statements */
};

/* ---- errors ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A failed SQLite call: what we tried, on what, where, and SQLite's reason.
 * Call it before resetting the statement, which may change the message. */
static int sqlerr(struct store *s, const char *what, const char *name,
		  char *err, size_t errlen)
{
	if (name)
		say(err, errlen, "cannot %s '%.64s' in %s (%s)", what, name, s->path,
		    sqlite3_errmsg(s->db));
	else
		say(err, errlen, "cannot %s in %s (%s)", what, s->path, sqlite3_errmsg(s->db));
	/* another process holds the lock: the caller may answer "try later" */
	return (sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY ? STORE_BUSY : STORE_ERR;
}

/* ---- small SQL helpers ----------------------------------------------- */

static int exec(struct store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : STORE_ERR;
}

/* Run a query for its first row: column 0 as an int and/or as text (txt may
 * be NULL). Returns an SQLite result code; SQLITE_OK also when there is no
 * row (then *num and txt are untouched). */
static int one_row(struct store *s, const char *sql, int *num, char *txt, size_t txtlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);

			if (num)
				*num = sqlite3_column_int(st, 0);
			if (txt)
				snprintf(txt, txtlen, "%s", t ? t : "");
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The port statements, one column per row of the field table (the column
 * is named like the field). Owned strings in s->port_sql. */
static int port_sql_build(struct store *s)
{
	char cols[512] = "", params[256] = "", sets[768] = "";
	size_t nc = 0, np = 0, ns = 0, n = port_field_count();

	for (size_t i = 0; i < n; i++) {
		const char *f = port_field_at(i)->name;
		nc += (size_t)snprintf(cols + nc, sizeof(cols) - nc, "%s%s", i ? ", " : "", f);
		np += (size_t)snprintf(params + np, sizeof(params) - np, "%s?%zu", i ? ", " : "",
				       i + 1);
		if (i)      /* column 0 is the name, the key */
			ns += (size_t)snprintf(sets + ns, sizeof(sets) - ns, "%s%s = ?%zu",
					       i > 1 ? ", " : "", f, i + 1);
	}
	if (nc >= sizeof(cols) || np >= sizeof(params) || ns >= sizeof(sets))
		return -1;
	if (asprintf(&s->port_sql[ST_PORT_LIST], "SELECT %s FROM ports ORDER BY name", cols) < 0 ||
	    asprintf(&s->port_sql[ST_PORT_GET], "SELECT %s FROM ports WHERE name = ?1", cols) < 0 ||
	    asprintf(&s->port_sql[ST_PORT_ADD], "INSERT INTO ports (%s) VALUES (%s)"
		     " ON CONFLICT (name) DO NOTHING", cols, params) < 0 ||
	    asprintf(&s->port_sql[ST_PORT_PUT], "UPDATE ports SET %s WHERE name = ?1", sets) < 0)
		return -1;
	return 0;
}

static sqlite3_stmt *prep(struct store *s, enum stmt_id id, char *err, size_t errlen)
{
	const char *sql = id < ST_PORT_DEL ? s->port_sql[id] : stmt_sql[id];

	if (!sql) {
		say(err, errlen, "out of memory preparing a query");
		return NULL;
	}
	if (!s->stmt[id] && sqlite3_prepare_v3(s->db, sql, -1,
					       SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
					       NULL) != SQLITE_OK) {
		sqlerr(s, "prepare a query", NULL, err, errlen);
		return NULL;
	}
	return s->stmt[id];
}

/* Return a cached statement to a clean state (NULL is fine). */
static void done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* Run a write statement whose binding gave bound (an SQLite code) to
 * completion; *changed = rows affected (changed may be NULL). Resets st. */
static int run_write(struct store *s, sqlite3_stmt *st, int bound, const char *what,
		     const char *name, int *changed, char *err, size_t errlen)
{
	int rc = 0;

	if (bound != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rc = sqlerr(s, what, name, err, errlen);
	else if (changed)
		*changed = sqlite3_changes(s->db);
	done(st);
	return rc;
}

/* Bind one or two text parameters (b may be NULL: then only a). */
static int bind_texts(sqlite3_stmt *st, const char *a, const char *b)
{
	int rc = sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);

	if (rc == SQLITE_OK && b)
		rc = sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	return rc;
}

/* ---- opening --------------------------------------------------------- */

static int make_dir(const char *dir)
{
	struct stat st;
	int saved;

	if (mkdir(dir, 0700) == 0)
		return 0;
	/* Some systems answer EACCES or EROFS for a directory that exists. */
	saved = errno;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	errno = saved;
	return -1;
}

/* mkdir -p of PATH's parent; new levels are 0700 as they hold credentials. */
static int make_parents(const char *path, char *err, size_t errlen)
{
	char *dir = strdup(path), *p;
	int rc = 0;

	if (!dir) {
		say(err, errlen, "out of memory opening %s", path);
		return STORE_ERR;
	}
	p = strrchr(dir, '/');
	if (!p || p == dir)
		goto out;               /* the current directory or / */
	*p = '\0';
	for (p = dir + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (make_dir(dir) < 0) {
			say(err, errlen, "cannot create directory %s (%s)", dir, strerror(errno));
			rc = STORE_ERR;
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
	}
out:
	free(dir);
	return rc;
}

/* Create the file ourselves: mode 0600 because it holds password and token
 * hashes (SQLite would make it 0644, and gives its -wal and -shm files the
 * database's mode), and a permission problem gets errno's plain reason
 * instead of SQLite's "unable to open database file". */
static int make_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);

	if (fd < 0) {
		say(err, errlen, "cannot open %s for reading and writing (%s)", path,
		    strerror(errno));
		return STORE_ERR;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		say(err, errlen, "%s is not a regular file", path);
		close(fd);
		return STORE_ERR;
	}
	close(fd);
	return 0;
}

static int unreadable(const char *path, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_NOTADB)
		say(err, errlen, "%s is not an mqttty database (%s)", path, sqlite3_errstr(rc));
	else if ((rc & 0xff) == SQLITE_CORRUPT)
		say(err, errlen, "%s is damaged (%s)", path, sqlite3_errstr(rc));
	else
		say(err, errlen, "cannot read %s (%s)", path, sqlite3_errstr(rc));
	return STORE_ERR;
}

/* Decide from reads alone whether the file is ours, empty, or newer. */
static int check_file(struct store *s, int *version, char *err, size_t errlen)
{
	int app = 0, tables = 0, rc;
	char ok[128] = "ok";
	bool foreign;

	rc = one_row(s, "PRAGMA user_version", version, NULL, 0);
	if (rc == SQLITE_OK)
		rc = one_row(s, "PRAGMA application_id", &app, NULL, 0);
	if (rc == SQLITE_OK)
		rc = one_row(s, "SELECT count(*) FROM sqlite_master", &tables, NULL, 0);
	if (rc != SQLITE_OK)
		return unreadable(s->path, rc, err, errlen);
	foreign = (app != STORE_APP_ID && (app != 0 || *version > 0)) ||
		  (*version == 0 && tables > 0);
	if (foreign) {
		say(err, errlen, "%s is not an mqttty database (it holds another "
		    "program's tables)", s->path);
		return STORE_ERR;
	}
	if (*version > STORE_SCHEMA_VERSION) {
		say(err, errlen, "%s was written by a newer mqttty (schema version %d, this "
		    "one reads up to %d)", s->path, *version, STORE_SCHEMA_VERSION);
		return STORE_TOONEW;
	}
	/* Cheap for a file this small, and a damaged one is better refused at
	 * start than found half-way through a request. */
	rc = one_row(s, "PRAGMA quick_check(1)", NULL, ok, sizeof(ok));
	if (rc != SQLITE_OK)
		return unreadable(s->path, rc, err, errlen);
	if (strcmp(ok, "ok") != 0) {
		say(err, errlen, "%s is damaged (%s)", s->path, ok);
		return STORE_ERR;
	}
	return 0;
}

/* WAL + synchronous=FULL: a commit is durable on power loss (~0.3 ms). */
static int set_journal(struct store *s, char *err, size_t errlen)
{
	char mode[16] = "";
	int rc = one_row(s, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode));

	if (rc != SQLITE_OK)
		return sqlerr(s, "use WAL journal mode", NULL, err, errlen);
	if (strcmp(mode, "wal") != 0) {
		say(err, errlen, "cannot use WAL journal mode in %s (it stays in %s mode)",
		    s->path, mode);
		return STORE_ERR;
	}
	if (exec(s, "PRAGMA synchronous = FULL") < 0)
		return sqlerr(s, "set synchronous mode", NULL, err, errlen);
	return 0;
}

static int migrate_step(struct store *s, int target, char *err, size_t errlen)
{
	char sql[48];
	int cur = 0, rc = STORE_ERR;
	bool begun = false;

	if (exec(s, "BEGIN IMMEDIATE") < 0)
		goto out;
	begun = true;
	/* Another process (say `mqttty passwd`) may have migrated meanwhile. */
	if (one_row(s, "PRAGMA user_version", &cur, NULL, 0) != SQLITE_OK)
		goto out;
	if (cur < target) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
		if (exec(s, migrations[target]) < 0 || exec(s, sql) < 0)
			goto out;
	}
	if (exec(s, "COMMIT") < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		say(err, errlen, "cannot migrate %s to schema version %d (%s)", s->path,
		    target, sqlite3_errmsg(s->db));
		if (begun)
			exec(s, "ROLLBACK");
	}
	return rc;
}

static int migrate(struct store *s, int from, char *err, size_t errlen)
{
	int v;

	for (v = from + 1; v <= STORE_SCHEMA_VERSION; v++)
		if (migrate_step(s, v, err, errlen) < 0)
			return STORE_ERR;
	return 0;
}

/* Debian's SQLite reads "file:..." as a URI and ":memory:" as no file at all:
 * "./" in front of a relative path makes it always the file we created. */
static int open_db(struct store *s, const char *path)
{
	char *name = NULL;
	int rc;

	if (path[0] != '/' && asprintf(&name, "./%s", path) < 0)
		return SQLITE_NOMEM;
	rc = sqlite3_open_v2(name ? name : path, &s->db, SQLITE_OPEN_READWRITE, NULL);
	free(name);
	return rc;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s = NULL;
	int rc = STORE_ERR, version = 0;

	*out = NULL;
	if (make_parents(path, err, errlen) < 0 || make_file(path, err, errlen) < 0)
		goto out;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path)) || port_sql_build(s) < 0) {
		say(err, errlen, "out of memory opening %s", path);
		goto out;
	}
	if (open_db(s, path) != SQLITE_OK) {
		say(err, errlen, "cannot open %s (%s)", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	/* These two touch no page, so they are safe before check_file(). */
	if (exec(s, "PRAGMA busy_timeout = 5000") < 0 ||
	    exec(s, "PRAGMA foreign_keys = ON") < 0) {
		sqlerr(s, "configure", NULL, err, errlen);
		goto out;
	}
	rc = check_file(s, &version, err, errlen);
	if (rc == 0)
		rc = set_journal(s, err, errlen);
	if (rc == 0)
		rc = migrate(s, version, err, errlen);
out:
	if (rc < 0)
		store_close(s);
	else
		*out = s;
	return rc;
}

void store_close(struct store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (i = 0; i < ST_PORT_DEL; i++)
		free(s->port_sql[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int store_set_busy_timeout(struct store *s, int ms)
{
	return sqlite3_busy_timeout(s->db, ms) == SQLITE_OK ? 0 : STORE_ERR;
}

int store_schema_version(struct store *s)
{
	int v = 0;

	return one_row(s, "PRAGMA user_version", &v, NULL, 0) == SQLITE_OK ? v : STORE_ERR;
}

/* ---- reading a port row ---------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int bad(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Column i as the JSON value its field takes (new reference), or NULL +
 * why. A nullable field reads SQL NULL as null; a boolean is 0 or 1. */
static json_t *col_json(sqlite3_stmt *st, int i, const struct port_field *f,
			char *why, size_t n)
{
	int type = sqlite3_column_type(st, i);
	const char *t;
	json_error_t jerr;
	json_t *j;

	switch (type) {
	case SQLITE_NULL:
		if (f->nullable)
			return json_null();
		bad(why, n, "%s is missing", f->name);
		return NULL;
	case SQLITE_INTEGER: {
		sqlite3_int64 v = sqlite3_column_int64(st, i);
		if (f->type == PF_BOOL && (v == 0 || v == 1))
			return json_boolean(v);
		if (f->type == PF_INT)
			return json_integer(v);
		break;
	}
	case SQLITE_TEXT:
		if (!(t = (const char *)sqlite3_column_text(st, i))) {
			bad(why, n, "out of memory reading %s", f->name);
			return NULL;
		}
		if (f->type == PF_FRAME) {
			/* ALLOW_NUL: a delimiter may be U+0000, stored as "\u0000" */
			j = json_loadb(t, (size_t)sqlite3_column_bytes(st, i),
				       JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
			if (!j)
				bad(why, n, "%s is not JSON (%s)", f->name, jerr.text);
			return j;
		}
		if (f->type != PF_INT && f->type != PF_BOOL)
			return json_stringn(t, (size_t)sqlite3_column_bytes(st, i));
		break;
	}
	bad(why, n, "%s is of the wrong type", f->name);
	return NULL;
}

/* Fill *out from the current row, or say which value is wrong in why. Each
 * value is checked by the field table exactly as API input is: the name
 * becomes a path (LINK_DIR/NAME), so it gets the same checks as a new one. */
static int read_port(sqlite3_stmt *st, struct port_config *out, char *why, size_t n)
{
	struct port_config p;
	char msg[160];

	port_config_defaults(&p);
	for (size_t i = 0; i < port_field_count(); i++) {
		const struct port_field *f = port_field_at(i);
		json_t *v = col_json(st, (int)i, f, why, n);
		int rc;

		if (!v)
			return -1;
		rc = port_field_set(&p, f, v, msg, sizeof(msg));
		json_decref(v);
		if (rc < 0)
			return bad(why, n, "%s", msg);
	}
	*out = p;
	return 0;
}

/* read_port() with the message the caller hands back. */
static int row_to_port(struct store *s, sqlite3_stmt *st, struct port_config *out,
		       char *err, size_t errlen)
{
	char why[192];
	const char *name;

	if (read_port(st, out, why, sizeof(why)) == 0)
		return 0;
	name = (const char *)sqlite3_column_text(st, 0);
	say(err, errlen, "stored port '%.40s' in %s is invalid: %s", name ? name : "",
	    s->path, why);
	return STORE_ERR;
}

/* ---- ports ----------------------------------------------------------- */

int store_port_list(struct store *s, store_port_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, ST_PORT_LIST, err, errlen);
	struct port_config *all = NULL, *grown;
	size_t n = 0, cap = 0, i;
	int rc = STORE_ERR, step;

	if (!st)
		return STORE_ERR;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				say(err, errlen, "out of memory listing ports");
				goto out;
			}
			all = grown;
		}
		if (row_to_port(s, st, &all[n], err, errlen) < 0)
			goto out;
		n++;
	}
	if (step != SQLITE_DONE) {
		sqlerr(s, "list ports", NULL, err, errlen);
		goto out;
	}
	/* Finish the read before any callback: cb may then use the store, and
	 * an invalid row means no callback at all rather than half a list. */
	done(st);
	st = NULL;
	for (i = 0; cb && i < n; i++)
		cb(&all[i], arg);
	rc = 0;
out:
	done(st);
	free(all);
	return rc;
}

int store_port_get(struct store *s, const char *name, struct port_config *out,
		   char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, ST_PORT_GET, err, errlen);
	int rc = STORE_ERR, step;

	if (!st)
		return STORE_ERR;
	if (bind_texts(st, name, NULL) != SQLITE_OK) {
		sqlerr(s, "read port", name, err, errlen);
		goto out;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		rc = row_to_port(s, st, out, err, errlen);
	} else if (step == SQLITE_DONE) {
		say(err, errlen, "no port named '%.64s'", name);
		rc = STORE_NOTFOUND;
	} else {
		sqlerr(s, "read port", name, err, errlen);
	}
out:
	done(st);
	return rc;
}

/* Bind field f's value as parameter i+1: null as SQL NULL, strings as
 * text, objects as compact ASCII JSON (0xFD is stored as "\u00fd").
 * SQLITE_OK, or an SQLite code on misuse or out of memory. */
static int bind_field(sqlite3_stmt *st, int i, const struct port_config *c,
		      const struct port_field *f)
{
	json_t *v = port_field_get(c, f);
	char *txt;
	int rc;

	if (json_is_null(v))
		rc = sqlite3_bind_null(st, i + 1);
	else if (json_is_string(v))
		rc = sqlite3_bind_text(st, i + 1, json_string_value(v),
				       (int)json_string_length(v), SQLITE_TRANSIENT);
	else if (json_is_integer(v))
		rc = sqlite3_bind_int64(st, i + 1, json_integer_value(v));
	else if (json_is_boolean(v))
		rc = sqlite3_bind_int(st, i + 1, json_is_true(v));
	else if ((txt = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII))) {
		rc = sqlite3_bind_text(st, i + 1, txt, -1, SQLITE_TRANSIENT);
		free(txt);
	} else {
		rc = SQLITE_NOMEM;
	}
	json_decref(v);
	return rc;
}

/* Bind c to an INSERT or UPDATE and run it; *changed = rows affected. */
static int write_port(struct store *s, enum stmt_id id, const struct port_config *c,
		      int *changed, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, id, err, errlen);
	char msg[128];
	int bound = SQLITE_OK;

	if (!st)
		return STORE_ERR;
	if (port_name_check(c->name, msg, sizeof(msg)) < 0) {
		say(err, errlen, "cannot store port '%.40s': %s", c->name, msg);
		done(st);
		return STORE_ERR;
	}
	for (size_t i = 0; i < port_field_count() && bound == SQLITE_OK; i++)
		bound = bind_field(st, (int)i, c, port_field_at(i));
	return run_write(s, st, bound, "store port", c->name, changed, err, errlen);
}

int store_port_add(struct store *s, const struct port_config *c, char *err, size_t errlen)
{
	int changed = 0, rc = write_port(s, ST_PORT_ADD, c, &changed, err, errlen);

	if (rc == 0 && changed == 0) {
		say(err, errlen, "a port named '%s' already exists", c->name);
		rc = STORE_EXISTS;
	}
	return rc;
}

int store_port_put(struct store *s, const struct port_config *c, char *err, size_t errlen)
{
	int changed = 0, rc = write_port(s, ST_PORT_PUT, c, &changed, err, errlen);

	if (rc == 0 && changed == 0) {
		say(err, errlen, "no port named '%s'", c->name);
		rc = STORE_NOTFOUND;
	}
	return rc;
}

/* DELETE by one text key; STORE_NOTFOUND (with "no THING named 'KEY'") if
 * no row had it. */
static int delete_key(struct store *s, enum stmt_id id, const char *thing,
		      const char *key, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, id, err, errlen);
	char what[32];
	int changed = 0, rc;

	if (!st)
		return STORE_ERR;
	snprintf(what, sizeof(what), "delete %s", thing);
	rc = run_write(s, st, bind_texts(st, key, NULL), what, key, &changed, err, errlen);
	if (rc == 0 && changed == 0) {
		say(err, errlen, "no %s named '%.64s'", thing, key);
		rc = STORE_NOTFOUND;
	}
	return rc;
}

int store_port_del(struct store *s, const char *name, char *err, size_t errlen)
{
	return delete_key(s, ST_PORT_DEL, "port", name, err, errlen);
}

/* ---- settings -------------------------------------------------------- */

int store_setting_get(struct store *s, const char *key, char **out, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, ST_SET_GET, err, errlen);
	const char *v;
	int rc = STORE_ERR, step;

	*out = NULL;
	if (!st)
		return STORE_ERR;
	if (bind_texts(st, key, NULL) != SQLITE_OK) {
		sqlerr(s, "read setting", key, err, errlen);
		goto out;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		say(err, errlen, "no setting named '%.64s'", key);
		rc = STORE_NOTFOUND;
	} else if (step != SQLITE_ROW) {
		sqlerr(s, "read setting", key, err, errlen);
	} else {
		v = (const char *)sqlite3_column_text(st, 0);
		*out = strdup(v ? v : "");
		if (*out)
			rc = 0;
		else
			say(err, errlen, "out of memory reading setting '%.64s'", key);
	}
out:
	done(st);
	return rc;
}

int store_setting_set(struct store *s, const char *key, const char *value,
		      char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, ST_SET_SET, err, errlen);

	if (!st)
		return STORE_ERR;
	return run_write(s, st, bind_texts(st, key, value), "store setting", key, NULL,
			 err, errlen);
}

int store_setting_del(struct store *s, const char *key, char *err, size_t errlen)
{
	return delete_key(s, ST_SET_DEL, "setting", key, err, errlen);
}

/* ---- tokens ---------------------------------------------------------- */

int store_token_add(struct store *s, const char *hash_hex, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, ST_TOKEN_ADD, err, errlen);
	int changed = 0, rc;

	if (!st)
		return STORE_ERR;
	rc = bind_texts(st, hash_hex, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	rc = run_write(s, st, rc, "store a token", NULL, &changed, err, errlen);
	if (rc == 0 && changed == 0) {
		say(err, errlen, "this token is already stored");
		rc = STORE_EXISTS;
	}
	return rc;
}

int store_token_exists(struct store *s, const char *hash_hex)
{
	sqlite3_stmt *st = prep(s, ST_TOKEN_HAS, NULL, 0);
	int rc = STORE_ERR, step;

	if (!st)
		return STORE_ERR;
	if (bind_texts(st, hash_hex, NULL) == SQLITE_OK) {
		step = sqlite3_step(st);
		if (step == SQLITE_ROW)
			rc = 1;
		else if (step == SQLITE_DONE)
			rc = 0;
	}
	done(st);
	return rc;
}

int store_begin(struct store *s, char *err, size_t errlen)
{
	if (exec(s, "BEGIN IMMEDIATE") < 0) {
		snprintf(err, errlen, "cannot start a transaction: %s", sqlite3_errmsg(s->db));
		return STORE_ERR;
	}
	return STORE_OK;
}

int store_commit(struct store *s, char *err, size_t errlen)
{
	if (exec(s, "COMMIT") < 0) {
		snprintf(err, errlen, "cannot commit: %s", sqlite3_errmsg(s->db));
		exec(s, "ROLLBACK");
		return STORE_ERR;
	}
	return STORE_OK;
}
