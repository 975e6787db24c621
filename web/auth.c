/* auth — who may use the API: session cookies made by a login, bearer
 * tokens (stored as SHA-256), and the login itself.
 *
 * A login never hashes on the loop thread: the PBKDF2 check runs on libuv's
 * thread pool (uv_queue_work) and its completion, back on the loop, answers
 * the request through a web_defer. At most HASH_RUNNING checks run at once
 * (the machine may have two cores, and the loop needs one), a few more wait
 * in a FIFO, and past that a login gets 503. Failed logins are counted per
 * client address (an IPv6 address by its /64): FAIL_MAX in FAIL_WINDOW_MS,
 * then 429 with Retry-After and no hashing until the oldest failure ages
 * out. A check still running counts against its address, so a burst of
 * parallel guesses cannot exceed the limit either. */
#include "web.h"
#include "crypto.h"
#include "gateway.h"
#include "log.h"
#include "store.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define SESSIONS 64
#define SESSION_TTL_MS (7ull * 24 * 3600 * 1000)
#define SESSION_COOKIE "mqttty_session"
#define FAIL_MAX 5
#define FAIL_WINDOW_MS 60000u
#define PEERS 256
#define HASH_RUNNING 1
#define HASH_WAITING 32
#define PASSWORD_MAX 1024

struct session {
	char id[CRYPTO_HEX64];
	uint64_t expires;
};

/* One client address. Never reused while a check for it is pending. */
struct peer {
	unsigned char key[16];
	bool used;
	unsigned nfails;               /* entries in fails[], oldest first */
	uint64_t fails[FAIL_MAX];      /* loop times of failures in the window */
	unsigned pending;              /* checks waiting or running */
	uint64_t seen;
};

struct login_job {
	uv_work_t work;
	struct login_job *next;        /* in the waiting FIFO */
	struct auth *a;                /* borrowed; outlives every job (see auth_free) */
	struct web_defer *d;           /* owned until answered */
	unsigned char key[16];
	char *stored;                  /* owned: the stored hash */
	char *pw;                      /* owned, wiped before free */
	size_t len;
	int result;                    /* crypto_password_verify */
};

struct auth {
	struct gateway *gw;
	struct session sessions[SESSIONS];
	struct peer peers[PEERS];
	unsigned running, waiting;
	struct login_job *wait_head, **wait_tail;
};

struct auth *auth_new(struct gateway *gw)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->gw = gw;
	a->wait_tail = &a->wait_head;
	return a;
}

/* Called after the loop ended: uv_run returns only once every queued work
 * request completed, and a waiting job is started by a completion, so no
 * job is left here. */
void auth_free(struct auth *a)
{
	if (!a)
		return;
	OPENSSL_cleanse(a->sessions, sizeof(a->sessions));
	free(a);
}

/* ---- sessions ------------------------------------------------------------ */

static void session_add(struct auth *a, const char *id, uint64_t now)
{
	struct session *s = &a->sessions[0];

	for (int i = 0; i < SESSIONS; i++)      /* a free or the oldest slot */
		if (a->sessions[i].expires < s->expires)
			s = &a->sessions[i];
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->expires = now + SESSION_TTL_MS;
}

static bool session_valid(struct auth *a, const char *id, uint64_t now)
{
	if (strlen(id) != CRYPTO_HEX64 - 1)
		return false;
	for (int i = 0; i < SESSIONS; i++)
		if (a->sessions[i].expires > now &&
		    CRYPTO_memcmp(a->sessions[i].id, id, CRYPTO_HEX64 - 1) == 0)
			return true;
	return false;
}

/* ---- per-address failure counts ------------------------------------------ */

/* The key of an address: IPv4 as ::ffff:a.b.c.d, IPv6 by its /64 (one
 * host usually holds a whole /64). Unknown addresses share one key. */
static void peer_key(const char *addr, unsigned char key[16])
{
	unsigned char v4[4];

	memset(key, 0, 16);
	if (inet_pton(AF_INET, addr, v4) == 1) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, v4, 4);
	} else if (inet_pton(AF_INET6, addr, key) == 1) {
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		if (memcmp(key, mapped, 12) != 0)
			memset(key + 8, 0, 8);
	}
}

static void peer_expire(struct peer *p, uint64_t now)
{
	unsigned n = 0;

	while (n < p->nfails && p->fails[n] + FAIL_WINDOW_MS <= now)
		n++;
	if (n) {
		memmove(p->fails, p->fails + n, (p->nfails - n) * sizeof(p->fails[0]));
		p->nfails -= n;
	}
}

/* The entry for key; a new one replaces a free or idle entry. NULL if all
 * are busy (cannot happen while HASH_RUNNING + HASH_WAITING < PEERS). */
static struct peer *peer_get(struct auth *a, const unsigned char key[16], uint64_t now)
{
	struct peer *free_p = NULL, *idle = NULL;

	for (int i = 0; i < PEERS; i++) {
		struct peer *p = &a->peers[i];
		if (p->used && memcmp(p->key, key, 16) == 0) {
			peer_expire(p, now);
			p->seen = now;
			return p;
		}
		if (!p->used) {
			free_p = free_p ? free_p : p;
		} else if (!p->pending) {
			peer_expire(p, now);
			if (!p->nfails)
				free_p = free_p ? free_p : p;
			else if (!idle || p->seen < idle->seen)
				idle = p;   /* forgets failures only when all 256 are full */
		}
	}
	struct peer *p = free_p ? free_p : idle;
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	memcpy(p->key, key, 16);
	p->used = true;
	p->seen = now;
	return p;
}

/* Seconds until p may try again, or 0. */
static int peer_wait_s(const struct peer *p, uint64_t now)
{
	if (p->nfails + p->pending < FAIL_MAX)
		return 0;
	if (p->nfails < FAIL_MAX)
		return 1;                 /* checks still running decide it */
	return (int)((p->fails[0] + FAIL_WINDOW_MS - now + 999) / 1000);
}

static void peer_fail(struct peer *p, uint64_t now)
{
	if (p->nfails == FAIL_MAX) {
		memmove(p->fails, p->fails + 1, (FAIL_MAX - 1) * sizeof(p->fails[0]));
		p->nfails--;
	}
	p->fails[p->nfails++] = now;
}

/* ---- the check, off the loop ---------------------------------------------- */

static void job_free(struct login_job *j)
{
	if (j->pw) {
		OPENSSL_cleanse(j->pw, j->len);
		free(j->pw);
	}
	free(j->stored);
	free(j);
}

/* thread pool: only the job's own memory */
static void job_work(uv_work_t *wk)
{
	struct login_job *j = wk->data;

	j->result = crypto_password_verify(j->pw, j->len, j->stored);
}

static void job_answer(struct login_job *j, int status, const char *fmt, int retry)
{
	struct http_resp r = { 0 };

	if (status == 204) {
		r.status = 204;
	} else {
		resp_error(&r, status, "%s", fmt);
		r.retry_after = retry;
	}
	web_defer_answer(j->d, &r);
	j->d = NULL;
}

static void jobs_start(struct auth *a);

static void job_done(uv_work_t *wk, int status)
{
	struct login_job *j = wk->data;
	struct auth *a = j->a;
	uint64_t now = uv_now(a->gw->loop);
	struct peer *p = peer_get(a, j->key, now);
	char sid[CRYPTO_HEX64];
	struct http_resp r = { 0 };

	a->running--;
	if (p)
		p->pending--;
	if (status < 0) {
		job_answer(j, 503, "the login check was cancelled: try again", 1);
	} else if (j->result < 0) {
		log_error("auth: the stored password hash is malformed: run `mqttty passwd` again");
		job_answer(j, 500, "the stored password hash is malformed: set the password "
			   "again with mqttty passwd", 0);
	} else if (j->result == 0) {
		/* counted even if the client hung up meanwhile */
		if (p)
			peer_fail(p, now);
		job_answer(j, 401, "wrong password", 0);
	} else if (!web_defer_alive(j->d) || crypto_random_hex(sid, sizeof(sid), 32) < 0) {
		job_answer(j, 500, "cannot make a session: no random bytes", 0);
	} else {
		if (p)
			p->nfails = 0;
		session_add(a, sid, now);
		r.status = 204;
		snprintf(r.set_cookie, sizeof(r.set_cookie),
			 SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", sid);
		OPENSSL_cleanse(sid, sizeof(sid));
		web_defer_answer(j->d, &r);
		j->d = NULL;
	}
	job_free(j);
	jobs_start(a);
}

/* Start waiting checks while fewer than HASH_RUNNING run. A check whose
 * client went away is dropped unhashed. */
static void jobs_start(struct auth *a)
{
	while (a->running < HASH_RUNNING && a->wait_head) {
		struct login_job *j = a->wait_head;
		struct peer *p;

		a->wait_head = j->next;
		if (!a->wait_head)
			a->wait_tail = &a->wait_head;
		a->waiting--;
		if (web_defer_alive(j->d) &&
		    uv_queue_work(a->gw->loop, &j->work, job_work, job_done) == 0) {
			a->running++;
			continue;
		}
		if ((p = peer_get(a, j->key, uv_now(a->gw->loop))))
			p->pending--;
		job_answer(j, 503, "cannot check the password now: try again", 1);
		job_free(j);
	}
}

/* ---- the API side ------------------------------------------------------------ */

bool auth_enabled(struct gateway *gw)
{
	char *v = NULL, err[256];
	bool on = store_setting_get(gw->store, "password_hash", &v, err, sizeof(err)) == 0;

	free(v);
	return on;
}

/* The value of cookie NAME in a Cookie header, into out. */
static bool cookie_get(const char *cookies, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *p = cookies; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = strcspn(p + nl + 1, ";");
			if (vl >= len)
				return false;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

bool auth_check(struct gateway *gw, struct web *w, const char *authorization, const char *cookie)
{
	struct auth *a = web_auth(w);
	char sid[80], hash[CRYPTO_HEX64];

	if (a && cookie_get(cookie, SESSION_COOKIE, sid, sizeof(sid)) &&
	    session_valid(a, sid, uv_now(gw->loop)))
		return true;
	if (strncmp(authorization, "Bearer ", 7) == 0 && authorization[7]) {
		crypto_sha256_hex(authorization + 7, strlen(authorization + 7), hash);
		return store_token_exists(gw->store, hash) == 1;
	}
	return false;
}

void auth_login(struct gateway *gw, struct web *w, const struct http_req *req,
		const char *password, size_t len, struct http_resp *r)
{
	struct auth *a = web_auth(w);
	uint64_t now = uv_now(gw->loop);
	unsigned char key[16];
	struct login_job *j = NULL;
	struct peer *p;
	char *stored = NULL, err[256];
	int wait;

	peer_key(req->peer ? req->peer : "", key);
	if (!a || !(p = peer_get(a, key, now))) {
		r->retry_after = 1;
		resp_error(r, 503, "too many logins at once: try again in a second");
		return;
	}
	if ((wait = peer_wait_s(p, now)) > 0) {
		r->retry_after = wait;
		resp_error(r, 429, "too many failed logins from this address: try again in %d s",
			   wait);
		return;
	}
	if (store_setting_get(gw->store, "password_hash", &stored, err, sizeof(err)) != 0) {
		resp_error(r, 401, "no password is set on this gateway (mqttty passwd sets one)");
		return;
	}
	if (len > PASSWORD_MAX || memchr(password, '\0', len)) {
		/* no stored password can hold these: a failure, without hashing */
		peer_fail(p, now);
		resp_error(r, 401, "wrong password");
		goto out;
	}
	if (a->running + a->waiting >= HASH_RUNNING + HASH_WAITING) {
		r->retry_after = 1;
		resp_error(r, 503, "too many logins at once: try again in a second");
		goto out;
	}
	if (!(j = calloc(1, sizeof(*j))) || !(j->pw = malloc(len + 1))) {
		resp_error(r, 500, "out of memory");
		goto out;
	}
	memcpy(j->pw, password, len);
	j->pw[len] = '\0';
	j->len = len;
	j->a = a;
	j->work.data = j;
	memcpy(j->key, key, 16);
	if (!(j->d = web_defer_begin(w, req, r))) {
		resp_error(r, 500, "out of memory");
		goto out;
	}
	j->stored = stored;
	stored = NULL;
	p->pending++;
	*a->wait_tail = j;
	a->wait_tail = &j->next;
	a->waiting++;
	j = NULL;
	jobs_start(a);
out:
	if (j)
		job_free(j);
	free(stored);
}
