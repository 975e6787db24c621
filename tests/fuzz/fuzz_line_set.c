/* fuzz_line_set — `BASE/set` payloads (line_set_parse) and a peer's
 * `state` (line_set_from_peer_state, line_set_null_modem), parsed the way
 * gateway/port_svc.c and gateway/port_mgr.c parse them off MQTT.
 *
 * Invariants: a refused set has a sentence; an accepted one holds only
 * values in the contract's ranges (lines 0/1/null, data bits 5..8, stop
 * bits 1..2, break >= 0); a peer state never yields a break, and lines that
 * come out of it are 0, 1 or null. */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "line_set.h"

static int line_ok(int v)
{
	return v == 0 || v == 1 || v == STATE_NULL;
}

static void check_lines(const struct line_set *s, const char *what)
{
	fuzz_check(line_ok(s->dtr) && line_ok(s->rts), "%s: dtr %d rts %d", what, s->dtr, s->rts);
	fuzz_check(line_ok(s->cts) && line_ok(s->dsr) && line_ok(s->dcd) && line_ok(s->ri),
		   "%s: input lines %d %d %d %d", what, s->cts, s->dsr, s->dcd, s->ri);
	fuzz_check(s->line.data_bits == STATE_NULL ||
		   (s->line.data_bits >= 5 && s->line.data_bits <= 8),
		   "%s: data_bits %d", what, s->line.data_bits);
	fuzz_check(s->line.stop_bits == STATE_NULL ||
		   (s->line.stop_bits >= 1 && s->line.stop_bits <= 2),
		   "%s: stop_bits %d", what, s->line.stop_bits);
	fuzz_check(s->line.baud == STATE_NULL || s->line.baud > 0, "%s: baud %lld", what,
		   (long long)s->line.baud);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct line_set s;
	char err[256];

	/* as port_svc.c: duplicates refused; as port_mgr.c: plain */
	json_t *set = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (set) {
		err[0] = '\0';
		memset(&s, 0x5a, sizeof(s));
		int rc = line_set_parse(set, &s, err, sizeof(err));
		fuzz_check_err(rc, err);
		if (rc == 0) {
			check_lines(&s, "set");
			fuzz_check(s.break_ms >= 0, "break_ms %d", s.break_ms);
			struct line_settings l;
			memset(&l, 0, sizeof(l));
			line_set_merge(&s, &l);
			(void)line_set_has_inputs(&s);
			(void)line_set_has_outputs(&s);
		}
		json_decref(set);
	}
	json_t *state = size ? json_loadb((const char *)data, size, 0, NULL) : NULL;
	memset(&s, 0x5a, sizeof(s));
	line_set_from_peer_state(state, &s);
	check_lines(&s, "peer state");
	fuzz_check(s.break_ms == 0, "a peer state gave a break of %d ms", s.break_ms);
	memset(&s, 0x5a, sizeof(s));
	line_set_null_modem(state, &s);
	fuzz_check(line_ok(s.cts) && line_ok(s.dsr) && line_ok(s.dcd),
		   "null modem: %d %d %d", s.cts, s.dsr, s.dcd);
	json_decref(state);
	return 0;
}
