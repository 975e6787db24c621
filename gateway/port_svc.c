/* port_svc — validate → persist → apply → announce, for every change of a
 * port's configuration. Nothing here touches a backend or a topic directly:
 * port_mgr applies, the store persists, the event bus and the `ports` topic
 * announce. */
#include "port_svc.h"
#include "gateway.h"
#include "line_set.h"
#include "store.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct gw_port *find(struct gateway *gw, const char *name, char *err, size_t errlen)
{
	char why[128];
	struct gw_port *gp = NULL;

	if (port_name_check(name, why, sizeof(why)) == 0)
		gp = gw_port_find(gw, name);
	if (!gp)
		snprintf(err, errlen, "no port named %.40s", name);
	return gp;
}

static void announce(struct gateway *gw, const char *op, const struct gw_port *gp)
{
	gw_events_port(&gw->events, op, gp);
	gw_publish_ports(gw);
}

/* Apply a new port (already persisted). On failure nothing half-made stays
 * in the gateway; the caller undoes the store. */
static int apply_new(struct gateway *gw, const struct port_config *c, struct gw_port **out,
		     char *err, size_t errlen)
{
	int rc = gw_port_add(gw, c, err, errlen);
	struct gw_port *gp = gw_port_find(gw, c->name);

	if (rc < 0) {
		if (gp)
			gw_port_remove(gw, gp);
		/* this system cannot host the kind (no /dev/cuse, not permitted,
		 * not Linux): the request asks for what cannot be; else the
		 * name, the link or the device node is taken */
		if (rc == -ENODEV || rc == -EACCES || rc == -ENOTSUP)
			return GW_EINVAL;
		return rc == -ENOMEM ? GW_ENOMEM : GW_EEXIST;
	}
	if (out)
		*out = gp;
	return GW_OK;
}

/* RFC 2217 has no authentication: a listener on a non-loopback address
 * follows the --http rule and needs the gateway's password. */
static int serve_allowed(struct gateway *gw, const struct port_config *c, char *err,
			 size_t errlen)
{
	char *hash = NULL, why[128];
	bool loopback = false, pw;

	if (!c->rfc2217[0])
		return GW_OK;
	if (port_addr_check(c->rfc2217, &loopback, err, errlen) < 0)
		return GW_EINVAL;
	if (loopback)
		return GW_OK;
	pw = store_setting_get(gw->store, "password_hash", &hash, why, sizeof(why)) == 0;
	free(hash);
	if (pw)
		return GW_OK;
	snprintf(err, errlen, "rfc2217 on %s is not a loopback address and no password is set: "
		 "RFC 2217 itself has no authentication; set one with `mqttty passwd` (and use "
		 "it on trusted networks or through a tunnel), or listen on 127.0.0.1",
		 c->rfc2217);
	return GW_EINVAL;
}

static int store_err(int rc)
{
	switch (rc) {
	case STORE_EXISTS: return GW_EEXIST;
	case STORE_NOTFOUND: return GW_ENOENT;
	case STORE_BUSY: return GW_EBUSY;
	default: return GW_ESTORE;
	}
}

int port_svc_create(struct gateway *gw, json_t *body, struct gw_port **out,
		    char *err, size_t errlen)
{
	struct port_config c;
	char e2[256];
	int rc;

	port_config_defaults(&c);
	if (!json_is_string(json_object_get(body, "name"))) {
		snprintf(err, errlen, "name is required: a string like \"radio1\"");
		return GW_EINVAL;
	}
	if (port_config_apply_json(&c, body, true, gw->opt->id, err, errlen) < 0)
		return GW_EINVAL;
	if ((rc = serve_allowed(gw, &c, err, errlen)) < 0)
		return rc;
	if (gw_port_find(gw, c.name)) {
		snprintf(err, errlen, "a port named %s already exists", c.name);
		return GW_EEXIST;
	}
	if ((rc = store_port_add(gw->store, &c, err, errlen)) < 0)
		return store_err(rc);
	if ((rc = apply_new(gw, &c, out, err, errlen)) < 0) {
		if (store_port_del(gw->store, c.name, e2, sizeof(e2)) < 0)
			log_error("port %s: %s", c.name, e2);
		return rc;
	}
	log_info("port %s: added", c.name);
	announce(gw, "added", gw_port_find(gw, c.name));
	return GW_OK;
}

int port_svc_patch(struct gateway *gw, const char *name, json_t *patch,
		   struct gw_port **out, char *err, size_t errlen)
{
	struct gw_port *gp = find(gw, name, err, errlen);
	struct port_config c;
	unsigned diff;
	int rc;

	if (!gp)
		return GW_ENOENT;
	c = gp->cfg;
	if (port_config_apply_json(&c, patch, false, gw->opt->id, err, errlen) < 0)
		return GW_EINVAL;
	if ((rc = serve_allowed(gw, &c, err, errlen)) < 0)
		return rc;
	if (out)
		*out = gp;
	if (!(diff = port_config_diff(&gp->cfg, &c)))
		return GW_OK;       /* nothing to persist, apply or announce */
	if ((rc = store_port_put(gw->store, &c, err, errlen)) < 0)
		return store_err(rc);
	if (gw_port_update(gw, gp, &c, diff, err, errlen) < 0)
		log_error("%s", err);   /* stored; the port shows open:false, no link */
	log_info("port %s: changed", gp->cfg.name);
	announce(gw, "changed", gp);
	return GW_OK;
}

int port_svc_delete(struct gateway *gw, const char *name, char *err, size_t errlen)
{
	struct gw_port *gp = find(gw, name, err, errlen);
	char keep[PORT_NAME_MAX + 1];
	int rc;

	if (!gp)
		return GW_ENOENT;
	if ((rc = store_port_del(gw->store, gp->cfg.name, err, errlen)) < 0)
		return store_err(rc);
	snprintf(keep, sizeof(keep), "%s", gp->cfg.name);
	gw_events_port(&gw->events, "removed", gp);
	gw_port_remove(gw, gp);
	gw_publish_ports(gw);
	log_info("port %s: removed", keep);
	return GW_OK;
}

int port_svc_send(struct gateway *gw, const char *name, const uint8_t *p, size_t n,
		  char *err, size_t errlen)
{
	struct gw_port *gp = find(gw, name, err, errlen);

	if (!gp)
		return GW_ENOENT;
	if (!gp->be || !gp->be->state.open) {
		snprintf(err, errlen, "no application holds port %s open", gp->cfg.name);
		return GW_ECONFLICT;
	}
	gw_port_rx(gp, p, n, "api");
	return GW_OK;
}

int port_svc_set(struct gw_port *gp, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
	struct line_set ls;
	char why[256];
	int rc = GW_EINVAL;

	if (!j) {
		snprintf(err, errlen, "set ignored: not JSON: %s", je.text);
		return GW_EINVAL;
	}
	if (!gp->be || !gp->be->ops->set)
		snprintf(err, errlen, "set ignored: a %s port has nothing set can change",
			 port_kind_name(gp->cfg.kind));
	else if (line_set_parse(j, &ls, why, sizeof(why)) < 0)
		snprintf(err, errlen, "set ignored: %s", why);
	else if (gp->be->ops->set(gp->be, &ls, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "set failed: %s", why);
		rc = GW_ECONFLICT;
	} else
		rc = GW_OK;
	json_decref(j);
	return rc;
}

/* ---- start-up ------------------------------------------------------------ */

static void load_one(const struct port_config *stored, void *arg)
{
	struct gateway *gw = arg;
	struct port_config cc = *stored, *c = &cc;
	char err[512];

	if (serve_allowed(gw, c, err, sizeof(err)) < 0) {
		/* the password was removed since: the port, not its listener */
		log_error("port %s: %s", c->name, err);
		c->rfc2217[0] = '\0';
	}
	/* stored: a backend that fails (device unplugged, link taken) keeps
	 * its config and shows open:false */
	if (gw_port_add(gw, c, err, sizeof(err)) < 0)
		log_error("%s", err);
}

int port_svc_load(struct gateway *gw, char *err, size_t errlen)
{
	int rc;

	if ((rc = store_port_list(gw->store, load_one, gw, err, errlen)) < 0)
		return store_err(rc);
	if (!gw->opt->nports)
		return GW_OK;
	if ((rc = store_begin(gw->store, err, errlen)) < 0)
		return store_err(rc);
	for (size_t i = 0; i < gw->opt->nports; i++) {
		struct port_config c;
		if (gw_port_find(gw, gw->opt->ports[i]))
			continue;   /* an existing port NAME is left as it is */
		port_config_defaults(&c);
		snprintf(c.name, sizeof(c.name), "%s", gw->opt->ports[i]);
		if ((rc = store_port_add(gw->store, &c, err, errlen)) < 0)
			return store_err(rc);   /* rolled back at close */
		load_one(&c, gw);
	}
	if ((rc = store_commit(gw->store, err, errlen)) < 0)
		return store_err(rc);
	return GW_OK;
}

/* ---- reading ------------------------------------------------------------- */

json_t *port_svc_list_json(struct gateway *gw, bool with_state)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < gw->nports; i++)
		json_array_append_new(a, gw_port_to_json(gw->ports[i], with_state));
	return a;
}

json_t *port_svc_get_json(struct gateway *gw, const char *name)
{
	char err[64];
	struct gw_port *gp = find(gw, name, err, sizeof(err));

	return gp ? gw_port_to_json(gp, true) : NULL;
}
