#include "port_state.h"
#include "port_config.h"

void port_state_init(struct port_state *s)
{
	*s = (struct port_state){
		.open = false,
		.line = { STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL, STATE_NULL },
		.dtr = STATE_NULL, .rts = STATE_NULL, .cts = STATE_NULL,
		.dsr = STATE_NULL, .dcd = STATE_NULL, .ri = STATE_NULL,
	};
}

static json_t *tri(int v)
{
	return v == STATE_NULL ? json_null() : json_boolean(v);
}

static json_t *num(int64_t v)
{
	return v == STATE_NULL ? json_null() : json_integer(v);
}

json_t *port_state_to_json(const struct port_state *s)
{
	json_t *o = json_object();
	const struct line_settings *l = &s->line;

	json_object_set_new(o, "open", json_boolean(s->open));
	json_object_set_new(o, "baud", num(l->baud));
	json_object_set_new(o, "data_bits", num(l->data_bits));
	json_object_set_new(o, "parity", l->parity == STATE_NULL ? json_null()
			    : json_string(port_parity_name((enum port_parity)l->parity)));
	json_object_set_new(o, "stop_bits", num(l->stop_bits));
	json_object_set_new(o, "flow", l->flow == STATE_NULL ? json_null()
			    : json_string(port_flow_name((enum port_flow)l->flow)));
	json_object_set_new(o, "dtr", tri(s->dtr));
	json_object_set_new(o, "rts", tri(s->rts));
	json_object_set_new(o, "cts", tri(s->cts));
	json_object_set_new(o, "dsr", tri(s->dsr));
	json_object_set_new(o, "dcd", tri(s->dcd));
	json_object_set_new(o, "ri", tri(s->ri));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)s->tx_bytes));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)s->rx_bytes));
	json_object_set_new(o, "dropped", json_integer((json_int_t)s->dropped));
	return o;
}

bool port_state_lines_differ(const struct port_state *a, const struct port_state *b)
{
	return a->open != b->open || a->line.baud != b->line.baud ||
	       a->line.data_bits != b->line.data_bits || a->line.parity != b->line.parity ||
	       a->line.stop_bits != b->line.stop_bits || a->line.flow != b->line.flow ||
	       a->dtr != b->dtr || a->rts != b->rts || a->cts != b->cts ||
	       a->dsr != b->dsr || a->dcd != b->dcd || a->ri != b->ri;
}
