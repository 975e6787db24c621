/* events — a small fixed list of observers, told in registration order. */
#include "events.h"

#include <errno.h>

int gw_events_add(struct gw_events *e, const struct gw_observer *o)
{
	if (e->n == GW_OBSERVERS_MAX)
		return -ENOSPC;
	e->obs[e->n++] = o;
	return 0;
}

void gw_events_del(struct gw_events *e, const struct gw_observer *o)
{
	for (size_t i = 0; i < e->n; i++) {
		if (e->obs[i] != o)
			continue;
		for (size_t j = i + 1; j < e->n; j++)
			e->obs[j - 1] = e->obs[j];
		e->n--;
		return;
	}
}

void gw_events_port(const struct gw_events *e, const char *op, const struct gw_port *gp)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->obs[i]->on_port)
			e->obs[i]->on_port(e->obs[i]->arg, op, gp);
}

void gw_events_state(const struct gw_events *e, const struct gw_port *gp, json_t *state)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->obs[i]->on_state)
			e->obs[i]->on_state(e->obs[i]->arg, gp, state);
}

static bool wants(const struct gw_observer *o)
{
	return o->on_traffic && (!o->wants_traffic || o->wants_traffic(o->arg));
}

bool gw_events_wants_traffic(const struct gw_events *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (wants(e->obs[i]))
			return true;
	return false;
}

void gw_events_traffic(const struct gw_events *e, const struct gw_port *gp, const char *dir,
		       const char *src, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < e->n; i++)
		if (wants(e->obs[i]))
			e->obs[i]->on_traffic(e->obs[i]->arg, gp, dir, src, p, n);
}

void gw_events_broker(const struct gw_events *e, bool connected)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->obs[i]->on_broker)
			e->obs[i]->on_broker(e->obs[i]->arg, connected);
}

void gw_events_problem(const struct gw_events *e, const struct gw_port *gp, const char *problem)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->obs[i]->on_problem)
			e->obs[i]->on_problem(e->obs[i]->arg, gp, problem);
}
