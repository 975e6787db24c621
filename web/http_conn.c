/* http_conn — one HTTP connection's answer: building it (resp_*), queuing
 * it for HTTP_WRITEABLE (web_respond), answering later (a web_defer ticket
 * for work done elsewhere; a parked request that its route runs again),
 * and the web's parts a route may need. The floor of web/: it calls
 * nothing above it (web.c hands it the function that runs a route). */
#include "web_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void resp_error(struct http_resp *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:s}", "error", msg);
	free(r->body);
	r->body = json_dumps(j, JSON_COMPACT);
	r->len = r->body ? strlen(r->body) : 0;
	r->status = status;
	r->content_type = "application/json";
	json_decref(j);
}

void resp_json(struct http_resp *r, int status, json_t *j)
{
	free(r->body);
	r->body = json_dumps(j, JSON_COMPACT);
	r->len = r->body ? strlen(r->body) : 0;
	r->status = status;
	r->content_type = "application/json";
	json_decref(j);
}

void resp_empty(struct http_resp *r, int status)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
	r->status = status;
}


/* ---- answers ------------------------------------------------------------- */

void web_respond(struct lws *wsi, struct pss *s)
{
	s->decided = true;
	s->out = (const uint8_t *)s->resp.body;
	s->out_len = s->resp.len;
	s->out_off = 0;
	s->headers_done = false;
	lws_callback_on_writable(wsi);
}

/* An answer that comes later (a login's password check). The connection
 * and this ticket point at each other; when the client goes away first,
 * the connection lets go (d->s = NULL) and the answer is dropped. */
struct web_defer {
	struct pss *s;                /* borrowed; NULL once the client went away */
};

struct auth *web_auth(struct web *w)
{
	return w ? w->auth : NULL;
}

/* ---- deferred answers ---------------------------------------------------- */

struct web_defer *web_defer_begin(struct web *w, const struct http_req *req,
				  struct http_resp *r)
{
	struct pss *s = req->conn;
	struct web_defer *d;

	if (!s || s->defer || !(d = calloc(1, sizeof(*d))))
		return NULL;
	d->s = s;
	s->defer = d;
	s->decided = true;            /* nothing more is read for this request */
	r->deferred = true;
	/* lws closes a connection left quiet too long; the answer is dropped then */
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_HTTP_CONTENT, 60);
	return d;
}

bool web_defer_alive(const struct web_defer *d)
{
	return d && d->s;
}

void web_defer_answer(struct web_defer *d, struct http_resp *resp)
{
	struct pss *s = d ? d->s : NULL;

	if (!s) {
		free(resp->body);
		free(d);
		return;
	}
	s->defer = NULL;
	free(s->resp.body);
	s->resp = *resp;
	s->resp.deferred = false;
	resp->body = NULL;
	free(d);
	lws_set_timeout(s->wsi, NO_PENDING_TIMEOUT, 0);
	web_respond(s->wsi, s);
}

/* The client went away: a pending answer must not find this session. */
void web_defer_detach(struct pss *s)
{
	if (s->defer) {
		s->defer->s = NULL;
		s->defer = NULL;
	}
}


/* ---- parked requests ----------------------------------------------------- */

void web_park(struct web *w, struct lws *wsi, struct pss *s)
{
	s->http_wsi = wsi;
	s->next_parked = w->parked;
	w->parked = s;
}

void web_unpark(struct web *w, struct pss *s)
{
	for (struct pss **pp = &w->parked; *pp; pp = &(*pp)->next_parked)
		if (*pp == s) {
			*pp = s->next_parked;
			s->next_parked = NULL;
			return;
		}
}

void web_api_retry(struct web *w)
{
	struct pss *list = w ? w->parked : NULL;

	if (w)
		w->parked = NULL;
	while (list) {
		struct pss *s = list;
		list = s->next_parked;
		s->next_parked = NULL;
		w->run(w, s->http_wsi, s);
	}
}

struct traffic *web_traffic(struct web *w)
{
	return w ? w->traffic : NULL;
}

struct fleet *web_fleet(struct web *w)
{
	return w ? w->fleet : NULL;
}
