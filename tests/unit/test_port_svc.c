/* Unit tests for gateway/port_svc.c: validate -> persist -> apply ->
 * announce, with the real field table, the real store (a SQLite file in a
 * temporary directory) and the real event bus, and small fakes for the
 * neighbour that applies (port_mgr: gw_port_*), which record what they were
 * asked to do. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "port_svc.h"
#include "store.h"

/* ---- fakes for port_mgr.c ---------------------------------------------- */

#define MAXP 8
static struct fake {
	struct gw_port ports[MAXP];
	struct port backends[MAXP];
	bool used[MAXP];
	int add_rc;                 /* what the next gw_port_add returns */
	int adds, updates, removes, publishes, rx_calls;
	unsigned last_diff;
	char last_rx_src[16];
} F;

static void fake_sort(struct gateway *gw)
{
	gw->nports = 0;
	for (int i = 0; i < MAXP; i++)
		if (F.used[i])
			gw->ports[gw->nports++] = &F.ports[i];
	for (size_t i = 1; i < gw->nports; i++)
		for (size_t j = i; j > 0 && strcmp(gw->ports[j - 1]->cfg.name,
						   gw->ports[j]->cfg.name) > 0; j--) {
			struct gw_port *t = gw->ports[j];
			gw->ports[j] = gw->ports[j - 1];
			gw->ports[j - 1] = t;
		}
}

struct gw_port *gw_port_find(struct gateway *gw, const char *name)
{
	for (size_t i = 0; i < gw->nports; i++)
		if (strcmp(gw->ports[i]->cfg.name, name) == 0)
			return gw->ports[i];
	return NULL;
}

int gw_port_add(struct gateway *gw, const struct port_config *cfg, char *err, size_t errlen)
{
	int i = 0;

	while (F.used[i])
		i++;
	memset(&F.ports[i], 0, sizeof(F.ports[i]));
	F.ports[i].gw = gw;
	F.ports[i].cfg = *cfg;
	F.ports[i].be = &F.backends[i];
	memset(&F.backends[i], 0, sizeof(F.backends[i]));
	F.used[i] = true;
	fake_sort(gw);
	F.adds++;
	if (F.add_rc) {
		snprintf(err, errlen, "port %s: no such thing here", cfg->name);
		F.ports[i].be = NULL;
		return F.add_rc;
	}
	return 0;
}

int gw_port_update(struct gateway *gw, struct gw_port *gp, const struct port_config *cfg,
		   unsigned diff, char *err, size_t errlen)
{
	gp->cfg = *cfg;
	F.updates++;
	F.last_diff = diff;
	return 0;
}

void gw_port_remove(struct gateway *gw, struct gw_port *gp)
{
	F.used[gp - F.ports] = false;
	fake_sort(gw);
	F.removes++;
}

void gw_port_rx(struct gw_port *gp, const uint8_t *p, size_t n, const char *src)
{
	F.rx_calls++;
	snprintf(F.last_rx_src, sizeof(F.last_rx_src), "%s", src);
}

json_t *gw_port_to_json(const struct gw_port *gp, bool with_state)
{
	return port_config_to_json(&gp->cfg);
}

void gw_publish_ports(struct gateway *gw)
{
	F.publishes++;
}

/* ---- an observer that records ------------------------------------------- */

static char seen[16][48];
static int nseen;

static void obs_port(void *arg, const char *op, const struct gw_port *gp)
{
	if (nseen < 16)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s %s", op, gp->cfg.name);
}

static const struct gw_observer recorder = { .on_port = obs_port };

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	char dir[64], path[128], err[512];
	struct options opt;
	struct gateway gw;
	struct gw_port *ptrs[MAXP];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/mqttty-svc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	assert_int_equal(store_open(f->path, &f->gw.store, f->err, sizeof(f->err)), 0);
	f->opt.id = "gw1";
	f->opt.prefix = "mqttty";
	f->gw.opt = &f->opt;
	f->gw.ports = f->ptrs;
	memset(&F, 0, sizeof(F));
	nseen = 0;
	assert_int_equal(gw_events_add(&f->gw.events, &recorder), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->gw.store);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);

	assert_non_null(j);
	return j;
}

static int create(struct fx *f, const char *text)
{
	json_t *j = J(text);
	int rc = port_svc_create(&f->gw, j, NULL, f->err, sizeof(f->err));

	json_decref(j);
	return rc;
}

static int patch(struct fx *f, const char *name, const char *text)
{
	json_t *j = J(text);
	int rc = port_svc_patch(&f->gw, name, j, NULL, f->err, sizeof(f->err));

	json_decref(j);
	return rc;
}

static int stored(struct fx *f, const char *name, struct port_config *out)
{
	char err[256];
	return store_port_get(f->gw.store, name, out, err, sizeof(err));
}

/* ---- tests --------------------------------------------------------------- */

static void create_persists_applies_announces(void **state)
{
	struct fx *f = *state;
	struct port_config c;

	assert_int_equal(create(f, "{\"name\":\"radio\",\"kind\":\"pty\",\"qos\":0}"), GW_OK);
	assert_int_equal(stored(f, "radio", &c), 0);
	assert_int_equal(c.qos, 0);
	assert_int_equal(F.adds, 1);
	assert_non_null(gw_port_find(&f->gw, "radio"));
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0], "added radio");
	assert_int_equal(F.publishes, 1);
}

static void bad_input_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct port_config c;
	static const char *const bodies[] = {
		"{\"name\":\"a\\u0000b\"}", "{\"name\":\"x\",\"parity\":\"none\\u0000\"}",
		"{\"name\":\"x\",\"bogus\":1}", "{\"name\":\"x\",\"baud\":0}",
		"{\"name\":\".hidden\"}", "{\"kind\":\"pty\"}",
		"{\"name\":\"x\",\"follow\":true}", "{\"name\":\"x\",\"peer\":\"gw1/x\"}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(create(f, bodies[i]), GW_EINVAL);
		assert_true(f->err[0]);
	}
	assert_int_equal(stored(f, "a", &c), STORE_NOTFOUND);
	assert_int_equal(stored(f, "x", &c), STORE_NOTFOUND);
	assert_int_equal(F.adds, 0);
	assert_int_equal(nseen, 0);
	assert_int_equal(F.publishes, 0);
}

static void duplicate_name_is_409(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f, "{\"name\":\"p\"}"), GW_OK);
	assert_int_equal(create(f, "{\"name\":\"p\",\"qos\":0}"), GW_EEXIST);
	assert_int_equal(F.adds, 1);
}

/* A kind this system cannot host: 400, and neither the store nor the
 * gateway keeps anything of it. */
static void failed_apply_undoes_the_store(void **state)
{
	struct fx *f = *state;
	struct port_config c;

	F.add_rc = -ENODEV;
	assert_int_equal(create(f, "{\"name\":\"c1\",\"kind\":\"cuse\"}"), GW_EINVAL);
	assert_int_equal(stored(f, "c1", &c), STORE_NOTFOUND);
	assert_null(gw_port_find(&f->gw, "c1"));
	assert_int_equal(nseen, 0);
	F.add_rc = -EEXIST;
	assert_int_equal(create(f, "{\"name\":\"c2\"}"), GW_EEXIST);
	assert_int_equal(stored(f, "c2", &c), STORE_NOTFOUND);
}

static void patch_applies_by_diff(void **state)
{
	struct fx *f = *state;
	struct port_config c;

	assert_int_equal(create(f, "{\"name\":\"vp\"}"), GW_OK);
	assert_int_equal(create(f, "{\"name\":\"dev\",\"kind\":\"device\","
				   "\"device\":\"/dev/ttyUSB9\"}"), GW_OK);

	/* a peer is live: resubscribe, never a reopen */
	assert_int_equal(patch(f, "vp", "{\"peer\":\"gw2/B\"}"), GW_OK);
	assert_int_equal(F.updates, 1);
	assert_true(F.last_diff & PFX_PEER);
	assert_false(F.last_diff & PFX_REOPEN);
	assert_int_equal(stored(f, "vp", &c), 0);
	assert_string_equal(c.peer, "gw2/B");
	assert_string_equal(seen[nseen - 1], "changed vp");

	/* qos and frame: their own effects */
	assert_int_equal(patch(f, "vp", "{\"qos\":0,\"frame\":{\"mode\":\"delim\",\"delim\":\";\"}}"),
			 GW_OK);
	assert_true(F.last_diff & PFX_QOS);
	assert_true(F.last_diff & PFX_FRAME);
	assert_false(F.last_diff & (PFX_REOPEN | PFX_PEER));

	/* a device's line settings are applied at open: a reopen */
	assert_int_equal(patch(f, "dev", "{\"baud\":38400}"), GW_OK);
	assert_true(F.last_diff & PFX_REOPEN);

	/* the same value again: nothing to store, apply or announce */
	int before = F.updates, events = nseen, pubs = F.publishes;
	assert_int_equal(patch(f, "dev", "{\"baud\":38400}"), GW_OK);
	assert_int_equal(F.updates, before);
	assert_int_equal(nseen, events);
	assert_int_equal(F.publishes, pubs);
}

static void patch_refusals(void **state)
{
	struct fx *f = *state;
	struct port_config c;

	assert_int_equal(create(f, "{\"name\":\"vp\",\"qos\":0}"), GW_OK);
	assert_int_equal(patch(f, "nope", "{\"qos\":1}"), GW_ENOENT);
	assert_int_equal(patch(f, "vp", "{\"name\":\"other\"}"), GW_EINVAL);
	assert_int_equal(patch(f, "vp", "{\"kind\":\"device\"}"), GW_EINVAL);
	assert_int_equal(patch(f, "vp", "{\"peer\":\"gw1/vp\"}"), GW_EINVAL);   /* self */
	assert_int_equal(patch(f, "vp", "{\"peer\":\"gw/x\\u0000\"}"), GW_EINVAL);
	assert_int_equal(F.updates, 0);
	assert_int_equal(stored(f, "vp", &c), 0);
	assert_int_equal(c.qos, 0);
	assert_string_equal(c.peer, "");
}

static void delete_tells_then_removes(void **state)
{
	struct fx *f = *state;
	struct port_config c;

	assert_int_equal(create(f, "{\"name\":\"gone\"}"), GW_OK);
	assert_int_equal(port_svc_delete(&f->gw, "gone", f->err, sizeof(f->err)), GW_OK);
	assert_int_equal(stored(f, "gone", &c), STORE_NOTFOUND);
	assert_int_equal(F.removes, 1);
	assert_string_equal(seen[nseen - 1], "removed gone");
	assert_int_equal(port_svc_delete(&f->gw, "gone", f->err, sizeof(f->err)), GW_ENOENT);
	assert_int_equal(port_svc_delete(&f->gw, "../x", f->err, sizeof(f->err)), GW_ENOENT);
}

static void send_needs_an_application(void **state)
{
	struct fx *f = *state;
	struct gw_port *gp;

	assert_int_equal(create(f, "{\"name\":\"s\"}"), GW_OK);
	assert_int_equal(port_svc_send(&f->gw, "s", (const uint8_t *)"hi", 2, f->err,
				       sizeof(f->err)), GW_ECONFLICT);
	assert_int_equal(F.rx_calls, 0);
	gp = gw_port_find(&f->gw, "s");
	gp->be->state.open = true;
	assert_int_equal(port_svc_send(&f->gw, "s", (const uint8_t *)"hi", 2, f->err,
				       sizeof(f->err)), GW_OK);
	assert_int_equal(F.rx_calls, 1);
	assert_string_equal(F.last_rx_src, "api");
}

/* Start-up: stored ports first, then the --port names not stored yet. */
static void load_stored_then_port_names(void **state)
{
	struct fx *f = *state;
	struct port_config c;
	char *names[] = { "new1", "old", "new2" };

	port_config_defaults(&c);
	snprintf(c.name, sizeof(c.name), "old");
	c.qos = 0;
	assert_int_equal(store_port_add(f->gw.store, &c, f->err, sizeof(f->err)), 0);
	f->opt.ports = names;
	f->opt.nports = 3;
	assert_int_equal(port_svc_load(&f->gw, f->err, sizeof(f->err)), GW_OK);
	assert_int_equal(f->gw.nports, 3);
	assert_int_equal(F.adds, 3);
	assert_int_equal(gw_port_find(&f->gw, "old")->cfg.qos, 0);   /* left as it was */
	assert_int_equal(stored(f, "new1", &c), 0);
	assert_int_equal(stored(f, "new2", &c), 0);
	f->opt.nports = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_persists_applies_announces, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_name_is_409, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_apply_undoes_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(patch_applies_by_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(patch_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_tells_then_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(send_needs_an_application, setup, teardown),
		cmocka_unit_test_setup_teardown(load_stored_then_port_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
