/* Unit tests for ports/port_config.c: name checks, the JSON mapping of port
 * settings and its validation (CONTRACT.md §2, §4 PATCH semantics). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers --------------------------------------------------------- */

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, 0, &je);

	if (!v)
		fail_msg("test JSON does not parse: %s: %s", text, je.text);
	return v;
}

/* Apply the JSON text to c; returns what port_config_apply_json returned. */
static int apply(struct port_config *c, const char *text, bool create,
		 const char *self_id, char *err, size_t errlen)
{
	json_t *v = parse(text);
	int rc;

	err[0] = '\0';
	rc = port_config_apply_json(c, v, create, self_id, err, errlen);
	json_decref(v);
	return rc;
}

/* A port "demo" made from the defaults through the create path. */
static struct port_config demo(void)
{
	struct port_config c;
	char err[256];

	port_config_defaults(&c);
	if (apply(&c, "{\"name\":\"demo\"}", true, "gw1", err, sizeof(err)) != 0)
		fail_msg("creating demo failed: %s", err);
	return c;
}

/* A port with every setting away from its default. */
static struct port_config busy(void)
{
	struct port_config c;
	char err[256];

	port_config_defaults(&c);
	if (apply(&c, "{\"name\":\"radio\",\"kind\":\"device\",\"device\":\"/dev/ttyUSB0\","
		  "\"baud\":115200,\"data_bits\":7,\"parity\":\"even\",\"stop_bits\":2,"
		  "\"flow\":\"rtscts\",\"dtr\":true,\"rts\":true,\"peer\":\"gw2/rig\","
		  "\"follow\":true,\"frame\":{\"mode\":\"delim\",\"delim\":\"\\r\\n\",\"max\":100},"
		  "\"qos\":0,\"enabled\":false}", true, "gw1", err, sizeof(err)) != 0)
		fail_msg("creating radio failed: %s", err);
	return c;
}

/* apply must fail, name `field` in its message and leave c byte-identical. */
static void expect_reject(struct port_config *c, const char *text, bool create,
			  const char *self_id, const char *field)
{
	struct port_config before;
	char err[256];
	int rc;

	memcpy(&before, c, sizeof(before));
	rc = apply(c, text, create, self_id, err, sizeof(err));
	if (rc != -1)
		fail_msg("accepted %s (rc %d)", text, rc);
	if (!strstr(err, field))
		fail_msg("error for %s does not name %s: \"%s\"", text, field, err);
	if (memcmp(&before, c, sizeof(before)) != 0)
		fail_msg("config changed by the rejected %s", text);
}

static void expect_accept(struct port_config *c, const char *text, bool create,
			  const char *self_id)
{
	char err[256];

	if (apply(c, text, create, self_id, err, sizeof(err)) != 0)
		fail_msg("rejected %s: %s", text, err);
}

/* ---- names ----------------------------------------------------------- */

static void name_check_accepts(void **state)
{
	const char *ok[] = { "demo", "a.b", "A-1_x", "x", "9", "a..b", "-x", "_",
			     "abcdefghijklmnopqrstuvwxyz012345" };   /* 32 */
	char err[256];

	assert_int_equal(strlen(ok[NELEM(ok) - 1]), 32);
	for (size_t i = 0; i < NELEM(ok); i++)
		if (port_name_check(ok[i], err, sizeof(err)) != 0)
			fail_msg("port name \"%s\" rejected: %s", ok[i], err);
}

static void name_check_rejects(void **state)
{
	const char *bad[] = { "../x", "a/b", "", "abcdefghijklmnopqrstuvwxyz0123456",
			      "+", "#", ".hidden", ".", "a b", "caf\xc3\xa9", "\xff",
			      "a\tb", "a:b", "a\\b", "a+b" };
	char err[256];

	assert_int_equal(strlen(bad[3]), 33);
	for (size_t i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		if (port_name_check(bad[i], err, sizeof(err)) != -1)
			fail_msg("port name \"%s\" accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void gateway_id_checks(void **state)
{
	char id64[65], id65[66], err[256];
	const char *ok[] = { "gw1", "A_b-9", "x", id64 };
	const char *bad[] = { ".", "a/b", id65, "", "a.b", "+", "#", "a b", "h\xc3\xa9" };

	memset(id64, 'g', 64);
	id64[64] = '\0';
	memset(id65, 'g', 65);
	id65[65] = '\0';
	for (size_t i = 0; i < NELEM(ok); i++)
		if (gateway_id_check(ok[i], err, sizeof(err)) != 0)
			fail_msg("gateway id \"%s\" rejected: %s", ok[i], err);
	for (size_t i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		if (gateway_id_check(bad[i], err, sizeof(err)) != -1)
			fail_msg("gateway id \"%s\" accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
}

/* ---- create ---------------------------------------------------------- */

static void create_defaults_match_contract(void **state)
{
	/* CONTRACT.md §2, the defaults column */
	json_t *want = parse("{\"name\":\"demo\",\"kind\":\"pty\",\"device\":null,"
			     "\"baud\":9600,\"data_bits\":8,\"parity\":\"none\","
			     "\"stop_bits\":1,\"flow\":\"none\",\"dtr\":false,\"rts\":false,"
			     "\"peer\":null,\"follow\":false,"
			     "\"frame\":{\"mode\":\"raw\",\"max\":4096},"
			     "\"qos\":1,\"enabled\":true,\"rfc2217\":null}");
	struct port_config c = demo();
	json_t *got = port_config_to_json(&c);
	const char *key;
	json_t *v;

	assert_non_null(got);
	json_object_foreach(want, key, v) {
		json_t *g = json_object_get(got, key);
		if (!g)
			fail_msg("key %s missing", key);
		if (!json_equal(g, v)) {
			char *gs = json_dumps(g, JSON_ENCODE_ANY);
			fail_msg("key %s: got %s", key, gs);
		}
	}
	assert_int_equal(json_object_size(got), json_object_size(want));
	assert_int_equal(json_object_size(want), 16);   /* §2, and §5's rfc2217 */
	json_decref(got);
	json_decref(want);
}

static void create_needs_name(void **state)
{
	struct port_config c;
	char err[256];

	port_config_defaults(&c);
	assert_int_equal(apply(&c, "{\"baud\":300}", true, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name"));
	assert_int_equal(c.baud, 9600);
	expect_reject(&c, "{\"name\":\"../x\"}", true, NULL, "name");
	expect_reject(&c, "{\"name\":5}", true, NULL, "name");
	expect_reject(&c, "{\"name\":null}", true, NULL, "name");
	expect_reject(&c, "{\"name\":\"ok\",\"kind\":\"serial\"}", true, NULL, "kind");
	expect_reject(&c, "[1]", true, NULL, "object");
	/* a name already set (as from the URL) is enough */
	snprintf(c.name, sizeof(c.name), "given");
	expect_accept(&c, "{\"baud\":300}", true, NULL);
	assert_int_equal(c.baud, 300);
	assert_string_equal(c.name, "given");
}

static void create_every_field(void **state)
{
	struct port_config c = busy();

	assert_string_equal(c.name, "radio");
	assert_int_equal(c.kind, PORT_KIND_DEVICE);
	assert_string_equal(c.device, "/dev/ttyUSB0");
	assert_int_equal(c.baud, 115200);
	assert_int_equal(c.data_bits, 7);
	assert_int_equal(c.parity, PARITY_EVEN);
	assert_int_equal(c.stop_bits, 2);
	assert_int_equal(c.flow, FLOW_RTSCTS);
	assert_true(c.dtr);
	assert_true(c.rts);
	assert_string_equal(c.peer, "gw2/rig");
	assert_true(c.follow);
	assert_int_equal(c.frame.mode, FRAME_DELIM);
	assert_int_equal(c.frame.max, 100);
	assert_int_equal(c.frame.delim_len, 2);
	assert_memory_equal(c.frame.delim, "\r\n", 2);
	assert_int_equal(c.qos, 0);
	assert_false(c.enabled);
}

static void unknown_field_rejected(void **state)
{
	struct port_config c = demo();

	expect_reject(&c, "{\"bogus\":1}", false, "gw1", "bogus");
	expect_reject(&c, "{\"baud\":300,\"Baud\":1}", false, "gw1", "Baud");
	expect_reject(&c, "{\"speed\":300}", true, "gw1", "speed");
	/* a valid field before the unknown one is not half-applied */
	expect_reject(&c, "{\"baud\":300,\"bogus\":1}", false, "gw1", "bogus");
	assert_int_equal(c.baud, 9600);
}

static void wrong_types_rejected(void **state)
{
	static const struct { const char *json, *field; } t[] = {
		{ "{\"baud\":\"fast\"}", "baud" },
		{ "{\"baud\":0}", "baud" },
		{ "{\"baud\":-9600}", "baud" },
		{ "{\"baud\":9600.5}", "baud" },
		{ "{\"qos\":2}", "qos" },
		{ "{\"qos\":-1}", "qos" },
		{ "{\"qos\":true}", "qos" },
		{ "{\"data_bits\":9}", "data_bits" },
		{ "{\"data_bits\":4}", "data_bits" },
		{ "{\"data_bits\":\"8\"}", "data_bits" },
		{ "{\"parity\":\"weird\"}", "parity" },
		{ "{\"parity\":\"None\"}", "parity" },
		{ "{\"parity\":0}", "parity" },
		{ "{\"stop_bits\":3}", "stop_bits" },
		{ "{\"stop_bits\":1.5}", "stop_bits" },
		{ "{\"flow\":\"hw\"}", "flow" },
		{ "{\"dtr\":1}", "dtr" },
		{ "{\"rts\":\"true\"}", "rts" },
		{ "{\"follow\":\"yes\"}", "follow" },
		{ "{\"enabled\":0}", "enabled" },
		{ "{\"peer\":\"nogateway\"}", "peer" },
		{ "{\"peer\":\"gw2/a/b\"}", "peer" },
		{ "{\"peer\":\"gw2/../x\"}", "peer" },
		{ "{\"peer\":\"/x\"}", "peer" },
		{ "{\"peer\":\"gw2/\"}", "peer" },
		{ "{\"peer\":7}", "peer" },
		{ "{\"device\":\"ttyUSB0\"}", "device" },
		{ "{\"device\":42}", "device" },
		{ "{\"frame\":\"raw\"}", "frame" },
		{ "{\"frame\":{\"mode\":\"raw\",\"max\":0}}", "frame.max" },
		{ "{\"frame\":{\"mode\":\"raw\",\"max\":65537}}", "frame.max" },
		{ "{\"frame\":{\"max\":\"big\"}}", "frame.max" },
		{ "{\"frame\":{\"mode\":\"packet\"}}", "frame.mode" },
		{ "{\"frame\":{\"mode\":\"delim\",\"delim\":\"\"}}", "frame.delim" },
		{ "{\"frame\":{\"mode\":\"delim\",\"delim\":\"123456789\"}}", "frame.delim" },
		{ "{\"frame\":{\"mode\":\"delim\",\"delim\":\"\\u0100\"}}", "frame.delim" },
		{ "{\"frame\":{\"mode\":\"delim\",\"delim\":\"a\\u20ac\"}}", "frame.delim" },
		{ "{\"frame\":{\"mode\":\"delim\",\"delim\":59}}", "frame.delim" },
		{ "{\"frame\":{\"mode\":\"delim\"}}", "frame.delim" },
		{ "{\"frame\":{\"mode\":\"raw\",\"delim\":\";\"}}", "frame.delim" },
		{ "{\"frame\":{\"mode\":\"idle\",\"idle_ms\":0}}", "frame.idle_ms" },
		{ "{\"frame\":{\"mode\":\"idle\",\"idle_ms\":\"5\"}}", "frame.idle_ms" },
		{ "{\"frame\":{\"mode\":\"raw\",\"size\":1}}", "frame.size" },
	};
	struct port_config c = demo();

	for (size_t i = 0; i < NELEM(t); i++) {
		expect_reject(&c, t[i].json, false, "gw1", t[i].field);
		expect_reject(&c, t[i].json, true, "gw1", t[i].field);
	}
	/* the same on a port with nothing at its default (frame cases aside:
	 * which of two bad frame keys is named first is not specified) */
	c = busy();
	for (size_t i = 0; i < NELEM(t); i++)
		if (strncmp(t[i].field, "frame", 5) != 0)
			expect_reject(&c, t[i].json, false, "gw1", t[i].field);
}

static void device_with_nul_rejected(void **state)
{
	struct port_config c = busy(), before = c;
	json_t *o = json_object();
	char err[256];

	json_object_set_new(o, "device", json_stringn("/dev/tty\0x", 10));
	assert_int_equal(port_config_apply_json(&c, o, false, "gw1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "device"));
	assert_memory_equal(&c, &before, sizeof(c));
	json_decref(o);
}

static void range_edges_accepted(void **state)
{
	struct port_config c = demo();

	/* create-style (whole values), so the frame is replaced each time */
	expect_accept(&c, "{\"frame\":{\"mode\":\"raw\",\"max\":1}}", true, "gw1");
	assert_int_equal(c.frame.max, 1);
	expect_accept(&c, "{\"frame\":{\"mode\":\"raw\",\"max\":65536}}", true, "gw1");
	assert_int_equal(c.frame.max, 65536);
	expect_accept(&c, "{\"frame\":{\"mode\":\"delim\",\"delim\":\"12345678\"}}", true, "gw1");
	assert_int_equal(c.frame.delim_len, 8);
	assert_int_equal(c.frame.max, 4096);
	expect_accept(&c, "{\"frame\":{\"mode\":\"idle\",\"idle_ms\":1}}", true, "gw1");
	assert_int_equal(c.frame.mode, FRAME_IDLE);
	assert_int_equal(c.frame.idle_ms, 1);
	expect_accept(&c, "{\"frame\":{\"mode\":\"idle\"}}", true, "gw1");
	assert_int_equal(c.frame.idle_ms, 0);
	expect_accept(&c, "{\"data_bits\":5,\"qos\":0,\"stop_bits\":2,\"baud\":1}", true, "gw1");
	assert_int_equal(c.data_bits, 5);
	assert_int_equal(c.qos, 0);
	assert_int_equal(c.stop_bits, 2);
	assert_int_equal(c.baud, 1);
	expect_accept(&c, "{\"parity\":\"space\",\"flow\":\"xonxoff\"}", true, "gw1");
	assert_int_equal(c.parity, PARITY_SPACE);
	assert_int_equal(c.flow, FLOW_XONXOFF);
}

/* ---- merge patch ----------------------------------------------------- */

static void patch_null_resets(void **state)
{
	struct port_config c = busy(), d;

	/* follow needs device+peer, so those reset last, in a patch of their own */
	expect_accept(&c, "{\"baud\":null,\"data_bits\":null,\"parity\":null,"
		      "\"stop_bits\":null,\"flow\":null,\"dtr\":null,\"rts\":null,"
		      "\"follow\":null,\"frame\":null,\"qos\":null,\"enabled\":null}",
		      false, "gw1");
	assert_int_equal(c.baud, 9600);
	assert_int_equal(c.data_bits, 8);
	assert_int_equal(c.parity, PARITY_NONE);
	assert_int_equal(c.stop_bits, 1);
	assert_int_equal(c.flow, FLOW_NONE);
	assert_false(c.dtr);
	assert_false(c.rts);
	assert_false(c.follow);
	assert_int_equal(c.frame.mode, FRAME_RAW);
	assert_int_equal(c.frame.max, 4096);
	assert_int_equal(c.qos, 1);
	assert_true(c.enabled);
	expect_accept(&c, "{\"peer\":null}", false, "gw1");
	assert_string_equal(c.peer, "");
	/* everything but name, kind and device is now the default */
	port_config_defaults(&d);
	snprintf(d.name, sizeof(d.name), "radio");
	d.kind = PORT_KIND_DEVICE;
	snprintf(d.device, sizeof(d.device), "/dev/ttyUSB0");
	assert_true(port_config_equal(&c, &d));
	/* a device port cannot lose its device */
	expect_reject(&c, "{\"device\":null}", false, "gw1", "device");
}

static void patch_leaves_other_fields(void **state)
{
	struct port_config c = busy(), before = c;

	expect_accept(&c, "{\"baud\":300}", false, "gw1");
	assert_int_equal(c.baud, 300);
	c.baud = before.baud;
	assert_true(port_config_equal(&c, &before));
	expect_accept(&c, "{}", false, "gw1");
	assert_true(port_config_equal(&c, &before));
}

static void patch_name_kind_fixed(void **state)
{
	struct port_config c = demo(), before = c;

	expect_reject(&c, "{\"name\":\"other\"}", false, "gw1", "name");
	expect_reject(&c, "{\"name\":null}", false, "gw1", "name");
	expect_reject(&c, "{\"kind\":\"cuse\"}", false, "gw1", "kind");
	expect_reject(&c, "{\"kind\":null}", false, "gw1", "kind");
	expect_reject(&c, "{\"kind\":\"device\",\"device\":\"/dev/ttyS0\"}", false, "gw1", "kind");
	/* the same values, as a GET-modify-PATCH client sends them back */
	expect_accept(&c, "{\"name\":\"demo\",\"kind\":\"pty\",\"qos\":0}", false, "gw1");
	assert_int_equal(c.qos, 0);
	c.qos = before.qos;
	assert_true(port_config_equal(&c, &before));
}

static void patch_ignores_path_and_state(void **state)
{
	struct port_config c = demo(), before = c;

	expect_accept(&c, "{\"path\":\"/run/mqttty/demo\",\"state\":{\"open\":true,"
		      "\"baud\":38400}}", false, "gw1");
	assert_true(port_config_equal(&c, &before));
	assert_int_equal(c.baud, 9600);
	expect_accept(&c, "{\"path\":null,\"state\":null}", false, "gw1");
	assert_true(port_config_equal(&c, &before));
}

static void whole_object_round_trip(void **state)
{
	struct port_config a = busy(), b;
	json_t *j = port_config_to_json(&a);
	char err[256];

	/* what the API returns (plus path/state) is accepted back unchanged */
	json_object_set_new(j, "path", json_null());
	json_object_set_new(j, "state", json_object());
	port_config_defaults(&b);
	assert_int_equal(port_config_apply_json(&b, j, true, "gw1", err, sizeof(err)), 0);
	assert_true(port_config_equal(&a, &b));
	b = a;
	assert_int_equal(port_config_apply_json(&b, j, false, "gw1", err, sizeof(err)), 0);
	assert_true(port_config_equal(&a, &b));
	json_decref(j);
}

/* BUG (ports/port_config.c, port_config_apply_json → field_set F_FRAME →
 * frame_cfg_from_json): in a PATCH (!create) the `frame` object replaces the
 * whole frame, starting from {"mode":"raw","max":4096}, instead of being
 * merged into the current one. CONTRACT.md §4 makes PATCH a JSON merge patch,
 * which merges nested objects (RFC 7396), so {"frame":{"max":100}} on a delim
 * port must keep mode and delim. Got: the port silently becomes raw; and
 * {"frame":{"idle_ms":50}} on an idle port is refused with
 * "frame.idle_ms is not a field of frame mode "raw"". */
static void patch_merges_frame(void **state)
{
	struct port_config c = demo();
	char err[256];

	expect_accept(&c, "{\"frame\":{\"mode\":\"delim\",\"delim\":\"\\u00fd\",\"max\":4096}}",
		      false, "gw1");
	if (apply(&c, "{\"frame\":{\"max\":100}}", false, "gw1", err, sizeof(err)) != 0)
		fail_msg("BUG: {\"frame\":{\"max\":100}} refused: %s", err);
	assert_int_equal(c.frame.max, 100);
	if (c.frame.mode != FRAME_DELIM || c.frame.delim_len != 1 || c.frame.delim[0] != 0xFD)
		fail_msg("BUG: {\"frame\":{\"max\":100}} on a delim port left mode %d, "
			 "delim_len %u (want delim, 1 byte 0xFD)", (int)c.frame.mode,
			 (unsigned)c.frame.delim_len);

	expect_accept(&c, "{\"frame\":{\"mode\":\"idle\",\"delim\":null,\"idle_ms\":20}}",
		      false, "gw1");
	if (apply(&c, "{\"frame\":{\"idle_ms\":50}}", false, "gw1", err, sizeof(err)) != 0)
		fail_msg("BUG: {\"frame\":{\"idle_ms\":50}} on an idle port refused: %s", err);
	assert_int_equal(c.frame.mode, FRAME_IDLE);
	assert_int_equal(c.frame.idle_ms, 50);
	assert_int_equal(c.frame.max, 100);
}

/* ---- cross-field rules ----------------------------------------------- */

static void cross_field_rules(void **state)
{
	struct port_config c;

	port_config_defaults(&c);
	expect_reject(&c, "{\"name\":\"d\",\"kind\":\"device\",\"follow\":true,"
		      "\"device\":\"/dev/ttyUSB0\"}", true, "gw1", "follow");
	expect_reject(&c, "{\"name\":\"p\",\"peer\":\"gw2/x\",\"follow\":true}",
		      true, "gw1", "follow");
	expect_reject(&c, "{\"name\":\"d\",\"kind\":\"device\"}", true, "gw1", "device");
	expect_reject(&c, "{\"name\":\"d\",\"kind\":\"device\",\"device\":null}",
		      true, "gw1", "device");
	expect_reject(&c, "{\"name\":\"p\",\"device\":\"/dev/ttyUSB0\"}", true, "gw1", "device");
	expect_accept(&c, "{\"name\":\"d\",\"kind\":\"device\",\"device\":\"/dev/ttyUSB0\","
		      "\"peer\":\"gw2/x\",\"follow\":true}", true, "gw1");
	assert_true(c.follow);
	/* removing the peer of a following port is refused, not half-done */
	expect_reject(&c, "{\"peer\":null}", false, "gw1", "follow");
	assert_string_equal(c.peer, "gw2/x");

	c = demo();
	expect_reject(&c, "{\"follow\":true}", false, "gw1", "follow");
	expect_reject(&c, "{\"peer\":\"gw2/x\",\"follow\":true}", false, "gw1", "follow");
}

static void self_peer_rejected(void **state)
{
	struct port_config c;

	port_config_defaults(&c);
	expect_reject(&c, "{\"name\":\"NAME\",\"peer\":\"gw1/NAME\"}", true, "gw1", "peer");
	c = demo();
	expect_reject(&c, "{\"peer\":\"gw1/demo\"}", false, "gw1", "peer");
	/* neighbours of the self-peer are fine */
	expect_accept(&c, "{\"peer\":\"gw1/demo2\"}", false, "gw1");
	expect_accept(&c, "{\"peer\":\"gw1/dem\"}", false, "gw1");
	expect_accept(&c, "{\"peer\":\"gw2/demo\"}", false, "gw1");
	expect_accept(&c, "{\"peer\":\"gw/demo\"}", false, "gw1");
	expect_accept(&c, "{\"peer\":\"gw1x/demo\"}", false, "gw1");
	expect_accept(&c, "{\"peer\":\"gw1/demo\"}", false, NULL);   /* id unknown */
	assert_string_equal(c.peer, "gw1/demo");
}

/* ---- frame JSON ------------------------------------------------------ */

static void delim_latin1_decoding(void **state)
{
	struct port_config c = demo();
	json_t *j, *d;

	expect_accept(&c, "{\"frame\":{\"mode\":\"delim\",\"delim\":\"\\u00fd\"}}", false, "gw1");
	assert_int_equal(c.frame.mode, FRAME_DELIM);
	assert_int_equal(c.frame.delim_len, 1);
	assert_int_equal(c.frame.delim[0], 0xFD);

	j = frame_cfg_to_json(&c.frame);
	d = json_object_get(j, "delim");
	assert_non_null(d);
	assert_int_equal(json_string_length(d), 2);
	assert_memory_equal(json_string_value(d), "\xc3\xbd", 2);   /* U+00FD in UTF-8 */
	json_decref(j);

	expect_accept(&c, "{\"frame\":{\"mode\":\"delim\",\"delim\":\"\\u00fe\\u00ff;\\u0080\","
		      "\"max\":64}}", false, "gw1");
	assert_int_equal(c.frame.delim_len, 4);
	assert_memory_equal(c.frame.delim, "\xfe\xff;\x80", 4);
	assert_int_equal(c.frame.max, 64);
}

static void delim_nul_byte(void **state)
{
	struct frame_cfg f;
	json_t *o = json_object(), *back;
	char err[256];

	/* U+0000 is in range: the byte 0x00 */
	json_object_set_new(o, "mode", json_string("delim"));
	json_object_set_new(o, "delim", json_stringn("\0;", 2));
	assert_int_equal(frame_cfg_from_json(&f, o, err, sizeof(err)), 0);
	assert_int_equal(f.delim_len, 2);
	assert_memory_equal(f.delim, "\0;", 2);
	back = frame_cfg_to_json(&f);
	assert_true(json_equal(json_object_get(back, "delim"), json_object_get(o, "delim")));
	json_decref(back);
	json_decref(o);
}

static void frame_json_shapes(void **state)
{
	static const char *const forms[] = {
		"{\"mode\":\"raw\",\"max\":4096}",
		"{\"mode\":\"raw\",\"max\":1}",
		"{\"mode\":\"delim\",\"delim\":\";\",\"max\":4096}",
		"{\"mode\":\"delim\",\"delim\":\"\\r\\n\",\"max\":65536}",
		"{\"mode\":\"delim\",\"delim\":\"\\u00fd\",\"max\":200}",
		"{\"mode\":\"idle\",\"max\":4096}",
		"{\"mode\":\"idle\",\"idle_ms\":20,\"max\":512}",
	};
	char err[256];

	/* each canonical form parses and prints back as itself */
	for (size_t i = 0; i < NELEM(forms); i++) {
		json_t *in = parse(forms[i]), *out;
		struct frame_cfg f;

		if (frame_cfg_from_json(&f, in, err, sizeof(err)) != 0)
			fail_msg("%s rejected: %s", forms[i], err);
		out = frame_cfg_to_json(&f);
		if (!json_equal(in, out)) {
			char *s = json_dumps(out, JSON_COMPACT);
			fail_msg("%s printed back as %s", forms[i], s);
		}
		json_decref(out);
		json_decref(in);
	}
}

static void frame_defaults_when_absent(void **state)
{
	struct frame_cfg f;
	json_t *in = parse("{}");
	char err[256];

	memset(&f, 0x55, sizeof(f));
	assert_int_equal(frame_cfg_from_json(&f, in, err, sizeof(err)), 0);
	assert_int_equal(f.mode, FRAME_RAW);
	assert_int_equal(f.max, 4096);
	assert_int_equal(f.delim_len, 0);
	assert_int_equal(f.idle_ms, 0);
	json_decref(in);
}

/* ---- equality and enum names ------------------------------------------ */

static void config_equal(void **state)
{
	struct port_config a = busy(), b = busy();

	assert_true(port_config_equal(&a, &b));
	/* bytes past delim_len are not part of the value */
	b.frame.delim[5] = 'Z';
	assert_true(port_config_equal(&a, &b));

#define DIFFERS(stmt) do { b = a; stmt; assert_false(port_config_equal(&a, &b)); } while (0)
	DIFFERS(b.name[0] = 'R');
	DIFFERS(b.kind = PORT_KIND_CUSE);
	DIFFERS(b.device[5] = 'X');
	DIFFERS(b.baud = 9600);
	DIFFERS(b.data_bits = 8);
	DIFFERS(b.parity = PARITY_ODD);
	DIFFERS(b.stop_bits = 1);
	DIFFERS(b.flow = FLOW_NONE);
	DIFFERS(b.dtr = false);
	DIFFERS(b.rts = false);
	DIFFERS(b.peer[0] = 'x');
	DIFFERS(b.follow = false);
	DIFFERS(b.frame.mode = FRAME_RAW);
	DIFFERS(b.frame.max = 101);
	DIFFERS(b.frame.delim[1] = '\r');
	DIFFERS(b.frame.delim_len = 1);
	DIFFERS(b.qos = 1);
	DIFFERS(b.enabled = true);
	/* idle_ms counts in idle mode; a leftover in delim mode is not a setting */
	b = a;
	b.frame.idle_ms = 5;
	assert_true(port_config_equal(&a, &b));
	a.frame.mode = FRAME_IDLE;
	DIFFERS(b.frame.idle_ms = 5);
#undef DIFFERS
}

static void enum_names(void **state)
{
	enum port_kind k;
	enum port_parity p;
	enum port_flow f;

	assert_string_equal(port_kind_name(PORT_KIND_PTY), "pty");
	assert_string_equal(port_kind_name(PORT_KIND_DEVICE), "device");
	assert_string_equal(port_kind_name(PORT_KIND_CUSE), "cuse");
	assert_string_equal(port_parity_name(PARITY_MARK), "mark");
	assert_string_equal(port_parity_name(PARITY_SPACE), "space");
	assert_string_equal(port_flow_name(FLOW_XONXOFF), "xonxoff");
	assert_int_equal(port_kind_parse("cuse", &k), 0);
	assert_int_equal(k, PORT_KIND_CUSE);
	assert_int_equal(port_parity_parse("odd", &p), 0);
	assert_int_equal(p, PARITY_ODD);
	assert_int_equal(port_flow_parse("rtscts", &f), 0);
	assert_int_equal(f, FLOW_RTSCTS);
	assert_int_equal(port_kind_parse("tty", &k), -1);
	assert_int_equal(port_parity_parse("", &p), -1);
	assert_int_equal(port_flow_parse("RTSCTS", &f), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_check_accepts),
		cmocka_unit_test(name_check_rejects),
		cmocka_unit_test(gateway_id_checks),
		cmocka_unit_test(create_defaults_match_contract),
		cmocka_unit_test(create_needs_name),
		cmocka_unit_test(create_every_field),
		cmocka_unit_test(unknown_field_rejected),
		cmocka_unit_test(wrong_types_rejected),
		cmocka_unit_test(device_with_nul_rejected),
		cmocka_unit_test(range_edges_accepted),
		cmocka_unit_test(patch_null_resets),
		cmocka_unit_test(patch_leaves_other_fields),
		cmocka_unit_test(patch_name_kind_fixed),
		cmocka_unit_test(patch_ignores_path_and_state),
		cmocka_unit_test(whole_object_round_trip),
		cmocka_unit_test(patch_merges_frame),
		cmocka_unit_test(cross_field_rules),
		cmocka_unit_test(self_peer_rejected),
		cmocka_unit_test(delim_latin1_decoding),
		cmocka_unit_test(delim_nul_byte),
		cmocka_unit_test(frame_json_shapes),
		cmocka_unit_test(frame_defaults_when_absent),
		cmocka_unit_test(config_equal),
		cmocka_unit_test(enum_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
