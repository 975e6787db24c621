/* api — the routes of CONTRACT.md §4. Port changes go to the store and the
 * running gateway in the same step; bad input changes nothing. */
#include "web.h"
#include "gateway.h"
#include "mqtt_bridge.h"
#include "store.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API "/api/v1"

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

static void resp_json(struct http_resp *r, int status, json_t *j)
{
	free(r->body);
	r->body = json_dumps(j, JSON_COMPACT);
	r->len = r->body ? strlen(r->body) : 0;
	r->status = status;
	r->content_type = "application/json";
	json_decref(j);
}

static void resp_empty(struct http_resp *r, int status)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
	r->status = status;
}

json_t *api_status_json(struct gateway *gw)
{
	return json_pack("{s:s, s:s, s:{s:b, s:s}, s:I}", "id", gw->opt->id,
			 "version", MQTTTY_VERSION, "broker", "connected",
			 mqtt_bridge_connected(gw->mqtt), "uri", gw->opt->uri.display,
			 "ports", (json_int_t)gw->nports);
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

static void ports_changed(struct gateway *gw, const char *op, const struct gw_port *gp)
{
	gw_publish_ports(gw);
	web_event_port(gw, op, gp);
}

static void get_ports(struct gateway *gw, struct http_resp *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < gw->nports; i++)
		json_array_append_new(a, gw_port_to_json(gw->ports[i], true));
	resp_json(r, 200, a);
}

static void post_port(struct gateway *gw, const struct http_req *req, struct http_resp *r)
{
	struct port_config c;
	char err[512];
	json_t *j = body_json(req, r);
	struct gw_port *gp;
	int rc;

	if (!j)
		return;
	port_config_defaults(&c);
	if (!json_is_string(json_object_get(j, "name"))) {
		resp_error(r, 400, "name is required: a string like \"radio1\"");
		goto out;
	}
	if (port_config_apply_json(&c, j, true, gw->opt->id, err, sizeof(err)) < 0) {
		resp_error(r, 400, "%s", err);
		goto out;
	}
	if (gw_port_find(gw, c.name)) {
		resp_error(r, 409, "a port named %s already exists", c.name);
		goto out;
	}
	if (store_port_add(gw->store, &c, err, sizeof(err)) < 0) {
		resp_error(r, 500, "%s", err);
		goto out;
	}
	if ((rc = gw_port_add(gw, &c, err, sizeof(err))) < 0) {
		/* undo both halves: nothing half-made stays behind */
		char e2[256];
		if ((gp = gw_port_find(gw, c.name)))
			gw_port_remove(gw, gp);
		store_port_del(gw->store, c.name, e2, sizeof(e2));
		/* this system cannot host the kind (no /dev/cuse, not permitted,
		 * not Linux): the request asks for what cannot be; else the name
		 * or the path is taken */
		resp_error(r, rc == -ENODEV || rc == -EACCES || rc == -ENOTSUP ? 400 : 409,
			   "%s", err);
		goto out;
	}
	gp = gw_port_find(gw, c.name);
	log_info("port %s: added through the API", c.name);
	ports_changed(gw, "added", gp);
	resp_json(r, 201, gw_port_to_json(gp, true));
out:
	json_decref(j);
}

static void patch_port(struct gateway *gw, struct gw_port *gp, const struct http_req *req,
		       struct http_resp *r)
{
	struct port_config c = gp->cfg;
	char err[512];
	json_t *j = body_json(req, r);

	if (!j)
		return;
	if (port_config_apply_json(&c, j, false, gw->opt->id, err, sizeof(err)) < 0) {
		resp_error(r, 400, "%s", err);
		goto out;
	}
	if (store_port_put(gw->store, &c, err, sizeof(err)) < 0) {
		resp_error(r, 500, "%s", err);
		goto out;
	}
	if (!port_config_equal(&c, &gp->cfg) && gw_port_update(gw, gp, &c, err, sizeof(err)) < 0)
		log_error("%s", err);   /* stored; the port shows open:false, no link */
	ports_changed(gw, "changed", gp);
	resp_json(r, 200, gw_port_to_json(gp, true));
out:
	json_decref(j);
}

static void delete_port(struct gateway *gw, struct gw_port *gp, struct http_resp *r)
{
	char err[512], name[PORT_NAME_MAX + 1];

	if (store_port_del(gw->store, gp->cfg.name, err, sizeof(err)) < 0) {
		resp_error(r, 500, "%s", err);
		return;
	}
	snprintf(name, sizeof(name), "%s", gp->cfg.name);
	web_event_port(gw, "removed", gp);
	gw_port_remove(gw, gp);
	gw_publish_ports(gw);
	log_info("port %s: removed through the API", name);
	resp_empty(r, 204);
}

static void send_port(struct gw_port *gp, const struct http_req *req, struct http_resp *r)
{
	if (!gp->be || !gp->be->state.open) {
		resp_error(r, 409, "no application holds port %s open", gp->cfg.name);
		return;
	}
	gw_port_rx(gp, req->body, req->body_len);
	resp_empty(r, 204);
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

/* Port routes: /api/v1/ports/NAME[/send] */
static void port_route(struct gateway *gw, const struct http_req *req, const char *rest,
		       struct http_resp *r)
{
	char name[PORT_NAME_MAX + 1], err[256];
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	struct gw_port *gp;

	if (n == 0 || n > PORT_NAME_MAX) {
		resp_error(r, 404, "no such port");
		return;
	}
	memcpy(name, rest, n);
	name[n] = '\0';
	if (port_name_check(name, err, sizeof(err)) < 0 || !(gp = gw_port_find(gw, name))) {
		resp_error(r, 404, "no port named %s", name);
		return;
	}
	if (slash && strcmp(slash, "/send") == 0) {
		if (req->method != HM_POST)
			resp_error(r, 405, "use POST to send bytes to a port");
		else
			send_port(gp, req, r);
		return;
	}
	if (slash) {
		resp_error(r, 404, "no such route: %s", req->path);
		return;
	}
	if (req->method == HM_GET)
		resp_json(r, 200, gw_port_to_json(gp, true));
	else if (req->method == HM_PATCH)
		json_body_ok(req, r) ? patch_port(gw, gp, req, r) : (void)0;
	else if (req->method == HM_DELETE)
		delete_port(gw, gp, r);
	else
		resp_error(r, 405, "method not allowed on a port");
}

void api_handle(struct gateway *gw, struct web *w, const struct http_req *req,
		struct http_resp *r)
{
	const char *p = req->path;

	if (strncmp(p, API "/", strlen(API "/")) != 0) {
		resp_error(r, 404, "no such route: %s", p);
		return;
	}
	p += strlen(API);
	if (strcmp(p, "/login") == 0) {
		if (req->method != HM_POST)
			resp_error(r, 405, "use POST to log in");
		else if (json_body_ok(req, r))
			login(gw, w, req, r);
		return;
	}
	if (auth_enabled(gw) && !auth_check(gw, w, req->authorization, req->cookie)) {
		resp_error(r, 401, "log in first (POST /api/v1/login) or send Authorization: Bearer TOKEN");
		return;
	}
	if (strcmp(p, "/status") == 0) {
		if (req->method == HM_GET)
			resp_json(r, 200, api_status_json(gw));
		else
			resp_error(r, 405, "use GET for the status");
	} else if (strcmp(p, "/ports") == 0) {
		if (req->method == HM_GET)
			get_ports(gw, r);
		else if (req->method == HM_POST)
			json_body_ok(req, r) ? post_port(gw, req, r) : (void)0;
		else
			resp_error(r, 405, "use GET or POST on /api/v1/ports");
	} else if (strncmp(p, "/ports/", 7) == 0) {
		port_route(gw, req, p + 7, r);
	} else {
		resp_error(r, 404, "no such route: %s", req->path);
	}
}
