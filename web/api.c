/* api — the routes of CONTRACT.md §4 and §5, as a table. Every port change
 * goes to the port service (validate → persist → apply → announce); this
 * file only turns HTTP into calls and answers into HTTP. */
#include "web.h"
#include "metrics.h"
#include "gateway.h"
#include "port_svc.h"
#include "traffic.h"
#include "fleet.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API "/api/v1"

/* The one place a service error becomes an HTTP status. */
static int http_status(int gw_err)
{
	switch (gw_err) {
	case GW_EINVAL: return 400;
	case GW_ENOENT: return 404;
	case GW_EEXIST: return 409;
	case GW_ECONFLICT: return 409;
	case GW_EBUSY: return 503;
	default: return 500;
	}
}

/* Parse a JSON object body; on failure the response is set. */
static json_t *body_json(const struct http_req *req, struct http_resp *r)
{
	json_error_t e;
	json_t *j;

	if (req->body_len == 0) {
		resp_error(r, 400, "the body is empty: send a JSON object");
		return NULL;
	}
	/* NUL is allowed: a frame delimiter may be "\u0000" */
	j = json_loadb((const char *)req->body, req->body_len,
		       JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
	if (!j) {
		resp_error(r, 400, "the body is not valid JSON: %s (line %d, column %d)", e.text,
			   e.line, e.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		resp_error(r, 400, "the body must be a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

static void answer_port(struct gateway *gw, struct http_resp *r, int status,
			const struct gw_port *gp)
{
	(void)gw;
	resp_json(r, status, gw_port_to_json(gp, true));
}

static void post_port(struct gateway *gw, const struct http_req *req, struct http_resp *r)
{
	char err[512];
	json_t *j = body_json(req, r);
	struct gw_port *gp = NULL;
	int rc;

	if (!j)
		return;
	if ((rc = port_svc_create(gw, j, &gp, err, sizeof(err))) < 0)
		resp_error(r, http_status(rc), "%s", err);
	else
		answer_port(gw, r, 201, gp);
	json_decref(j);
}

static void patch_port(struct gateway *gw, const char *name, const struct http_req *req,
		       struct http_resp *r)
{
	char err[512];
	json_t *j = body_json(req, r);
	struct gw_port *gp = NULL;
	int rc;

	if (!j)
		return;
	if ((rc = port_svc_patch(gw, name, j, &gp, err, sizeof(err))) < 0)
		resp_error(r, http_status(rc), "%s", err);
	else
		answer_port(gw, r, 200, gp);
	json_decref(j);
}

static void login(struct gateway *gw, struct web *w, const struct http_req *req,
		  struct http_resp *r)
{
	json_t *j = body_json(req, r), *pw;

	if (!j)
		return;
	pw = json_object_get(j, "password");
	if (!json_is_string(pw) || json_object_size(j) != 1)
		resp_error(r, 400, "the body must be {\"password\": \"...\"}");
	else   /* answers now, or later from the password check (r->deferred) */
		auth_login(gw, w, req, json_string_value(pw), json_string_length(pw), r);
	json_decref(j);
}

static bool json_body_ok(const struct http_req *req, struct http_resp *r)
{
	if (req->body_len == 0 || strncmp(req->content_type, "application/json", 16) == 0)
		return true;
	resp_error(r, 415, "the body must be application/json");
	return false;
}

/* ---- the routes ----------------------------------------------------------- */

struct call {
	struct gateway *gw;
	struct web *w;
	const struct http_req *req;
	struct http_resp *r;
	const char *name;            /* the NAME of /ports/NAME[/...] */
};

static void r_status(struct call *c)
{
	resp_json(c->r, 200, api_status_json(c->gw));
}

static void r_schema(struct call *c)
{
	resp_json(c->r, 200, port_config_schema_json());
}

static void r_ports_get(struct call *c)
{
	resp_json(c->r, 200, port_svc_list_json(c->gw, true));
}

static void r_ports_post(struct call *c)
{
	post_port(c->gw, c->req, c->r);
}

static void r_port_get(struct call *c)
{
	json_t *j = port_svc_get_json(c->gw, c->name);

	if (j)
		resp_json(c->r, 200, j);
	else
		resp_error(c->r, 404, "no port named %s", c->name);
}

static void r_port_patch(struct call *c)
{
	patch_port(c->gw, c->name, c->req, c->r);
}

static void r_port_delete(struct call *c)
{
	char err[512];
	int rc = port_svc_delete(c->gw, c->name, err, sizeof(err));

	if (rc < 0)
		resp_error(c->r, http_status(rc), "%s", err);
	else
		resp_empty(c->r, 204);
}

static void r_port_send(struct call *c)
{
	char err[512];
	int rc = port_svc_send(c->gw, c->name, c->req->body, c->req->body_len, err, sizeof(err));

	if (rc < 0)
		resp_error(c->r, http_status(rc), "%s", err);
	else
		resp_empty(c->r, 204);
}

/* Recent traffic kept by the gateway (web/traffic.c). */
static void r_port_traffic_as(struct call *c, int as)
{
	const struct traffic_ring *ring;
	size_t len = 0;
	char *text;

	if (!gw_port_find(c->gw, c->name)) {
		resp_error(c->r, 404, "no port named %s", c->name);
		return;
	}
	ring = traffic_find(web_traffic(c->w), c->name);
	if (as == 0) {
		resp_json(c->r, 200, json_pack("{s:s, s:i, s:o}", "name", c->name, "keep",
					       TRAFFIC_KEEP, "messages", traffic_ring_json(ring)));
		return;
	}
	if (!(text = traffic_ring_export(ring, as == 1, &len))) {
		resp_error(c->r, 500, "out of memory");
		return;
	}
	free(c->r->body);
	c->r->body = text;
	c->r->len = len;
	c->r->status = 200;
	c->r->content_type = as == 1 ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8";
}

static void r_traffic(struct call *c)
{
	resp_json(c->r, 200, traffic_summary_json(web_traffic(c->w)));
}

static void r_port_traffic(struct call *c) { r_port_traffic_as(c, 0); }
static void r_port_traffic_csv(struct call *c) { r_port_traffic_as(c, 1); }
static void r_port_traffic_txt(struct call *c) { r_port_traffic_as(c, 2); }

/* DTR/RTS (device) or CTS/DSR/DCD/RI (cuse) from the dashboard: the same
 * as a message on the port's BASE/set, without the trip through the broker. */
static void r_port_set(struct call *c)
{
	char err[512];
	struct gw_port *gp = gw_port_find(c->gw, c->name);
	int rc;

	if (!gp) {
		resp_error(c->r, 404, "no port named %s", c->name);
		return;
	}
	if (c->req->body_len == 0) {
		resp_error(c->r, 400, "the body is empty: send a JSON object, e.g. {\"rts\": false}");
		return;
	}
	if ((rc = port_svc_set(gp, c->req->body, c->req->body_len, err, sizeof(err))) < 0)
		resp_error(c->r, http_status(rc), "%s", err);
	else
		answer_port(c->gw, c->r, 200, gp);
}

static void r_fleet(struct call *c) { fleet_api_get(web_fleet(c->w), c->r); }
static void r_fleet_watch(struct call *c) { fleet_api_watch(web_fleet(c->w), c->req, c->r); }
static void r_fleet_send(struct call *c) { fleet_api_send(web_fleet(c->w), c->req, c->r); }
static void r_fleet_set(struct call *c) { fleet_api_set(web_fleet(c->w), c->req, c->r); }

static void r_login(struct call *c)
{
	login(c->gw, c->w, c->req, c->r);
}

enum { R_JSON = 1 };   /* the body, if any, must be application/json */

/* A path pattern: "/ports/:" matches one NAME segment. */
static const struct route {
	enum http_method method;
	const char *pattern;
	unsigned flags;
	void (*fn)(struct call *c);
} routes[] = {
	{ HM_POST, "/login", R_JSON, r_login },
	{ HM_GET, "/status", 0, r_status },
	{ HM_GET, "/schema", 0, r_schema },
	{ HM_GET, "/ports", 0, r_ports_get },
	{ HM_POST, "/ports", R_JSON, r_ports_post },
	{ HM_GET, "/ports/:", 0, r_port_get },
	{ HM_PATCH, "/ports/:", R_JSON, r_port_patch },
	{ HM_DELETE, "/ports/:", 0, r_port_delete },
	{ HM_POST, "/ports/:/send", 0, r_port_send },
	{ HM_POST, "/ports/:/set", R_JSON, r_port_set },
	{ HM_GET, "/traffic", 0, r_traffic },
	{ HM_GET, "/ports/:/traffic", 0, r_port_traffic },
	{ HM_GET, "/ports/:/traffic.csv", 0, r_port_traffic_csv },
	{ HM_GET, "/ports/:/traffic.txt", 0, r_port_traffic_txt },
	{ HM_GET, "/fleet", 0, r_fleet },
	{ HM_POST, "/fleet/watch", R_JSON, r_fleet_watch },
	{ HM_POST, "/fleet/send", R_JSON, r_fleet_send },
	{ HM_POST, "/fleet/set", R_JSON, r_fleet_set },
};

/* Does path match pattern? A ':' segment is copied into name (a segment
 * that is empty or too long for a port name never matches). */
static bool route_match(const char *pattern, const char *path, char *name, size_t len)
{
	while (*pattern && *path) {
		if (*pattern == ':') {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= len)
				return false;
			memcpy(name, path, n);
			name[n] = '\0';
			path += n;
			pattern++;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	return !*pattern && !*path;
}

void api_handle(struct gateway *gw, struct web *w, const struct http_req *req,
		struct http_resp *r)
{
	const char *p = req->path;
	char name[PORT_NAME_MAX + 1] = "";
	struct call c = { gw, w, req, r, name };
	const struct route *found = NULL;
	bool path_known = false;

	if (strcmp(p, "/metrics") == 0) {   /* its own auth: a scrape token too */
		metrics_handle(gw, w, req, r);
		return;
	}
	if (strncmp(p, API "/", strlen(API "/")) != 0) {
		resp_error(r, 404, "no such route: %s", p);
		return;
	}
	p += strlen(API);
	/* everything but the login needs credentials, even to learn which
	 * routes exist */
	if (strcmp(p, "/login") != 0 && auth_enabled(gw) &&
	    !auth_check(gw, w, req->authorization, req->cookie)) {
		resp_error(r, 401, "log in first (POST /api/v1/login) or send Authorization: Bearer TOKEN");
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(routes[i].pattern, p, name, sizeof(name)))
			continue;
		path_known = true;
		if (routes[i].method == req->method) {
			found = &routes[i];
			break;
		}
	}
	if (!found) {
		if (path_known)
			resp_error(r, 405, "method not allowed on %s", req->path);
		else
			resp_error(r, 404, "no such route: %s", req->path);
		return;
	}
	if ((found->flags & R_JSON) && !json_body_ok(req, r))
		return;
	found->fn(&c);
}
