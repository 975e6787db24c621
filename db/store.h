/* store — the SQLite file holding ports, settings and credentials.
 *
 * Owned by the loop thread only. WAL, synchronous=FULL, busy_timeout 5 s,
 * schema version in PRAGMA user_version with one migration step per version.
 * Every function returns 0 or a negative code and, on failure, writes a
 * one-sentence reason into err (never logs). */
#ifndef MQTTTY_STORE_H
#define MQTTTY_STORE_H

#include <stddef.h>
#include "port_config.h"

#define STORE_SCHEMA_VERSION 3

enum {
	STORE_OK = 0,
	STORE_ERR = -1,        /* I/O, corrupt file, SQL error */
	STORE_NOTFOUND = -2,
	STORE_EXISTS = -3,
	STORE_TOONEW = -4,     /* file written by a newer mqttty */
	STORE_BUSY = -5,       /* locked by another process past the busy timeout */
};

struct store;

/* Open (creating the file and its parent directory if needed) and migrate.
 * *out is owned by the caller: free with store_close(). */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);
/* How long a write waits for another process's lock (5 s by default). The
 * gateway's loop thread sets a short one: a busy file fails fast (503)
 * instead of stalling every port. */
int store_set_busy_timeout(struct store *s, int ms);
int store_schema_version(struct store *s);

/* Ports. store_port_list calls cb once per stored port, sorted by name,
 * after the whole table was read: cb may call other store functions, and a
 * stored row that is invalid gives STORE_ERR with no callback at all. */
typedef void (*store_port_cb)(const struct port_config *c, void *arg);
int store_port_list(struct store *s, store_port_cb cb, void *arg, char *err, size_t errlen);
int store_port_get(struct store *s, const char *name, struct port_config *out, char *err, size_t errlen);
/* Insert; STORE_EXISTS if the name is taken. */
int store_port_add(struct store *s, const struct port_config *c, char *err, size_t errlen);
/* Replace an existing row; STORE_NOTFOUND if absent. */
int store_port_put(struct store *s, const struct port_config *c, char *err, size_t errlen);
/* STORE_NOTFOUND if absent (so does store_setting_del). */
int store_port_del(struct store *s, const char *name, char *err, size_t errlen);

/* Key/value settings (e.g. "password_hash"). store_setting_get: *out is
 * malloc'd, caller frees; STORE_NOTFOUND if absent. */
int store_setting_get(struct store *s, const char *key, char **out, char *err, size_t errlen);
int store_setting_set(struct store *s, const char *key, const char *value, char *err, size_t errlen);
int store_setting_del(struct store *s, const char *key, char *err, size_t errlen);

/* Group several writes into one durable commit (e.g. 1000 --port names at
 * start-up: one fsync instead of 1000). On a failed commit the whole group
 * is rolled back. */
int store_begin(struct store *s, char *err, size_t errlen);
int store_commit(struct store *s, char *err, size_t errlen);

/* API tokens, stored as hex SHA-256 of the token. STORE_EXISTS if stored. */
int store_token_add(struct store *s, const char *hash_hex, char *err, size_t errlen);
int store_token_exists(struct store *s, const char *hash_hex); /* 1, 0, or <0 */

#endif
