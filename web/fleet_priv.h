/* fleet_priv — what fleet.c (the view, the watch, the websocket events)
 * and fleet_api.c (the routes) share. Internal to those two files. */
#ifndef MQTTTY_FLEET_PRIV_H
#define MQTTTY_FLEET_PRIV_H

#include "sbuf.h"
#include "fleet.h"
#include "traffic.h"
#include "web.h"
#include "gateway.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_ID_MAX 64

struct fstate {
	char name[PORT_NAME_MAX + 1];
	char *raw;                  /* a JSON object; owned */
	size_t len;
	bool dirty;                 /* not yet told to the websocket */
};

struct fgw {
	char id[GW_ID_MAX + 1];
	int online;                 /* 1, 0, or -1 while no status was seen */
	char *ports;                /* the retained ports array as text; owned, may be NULL */
	size_t ports_len;
	struct fstate *st;          /* sorted by name */
	size_t nst, capst;
	bool dirty, dirty_states;
};

struct fwatch {
	bool used;
	char gw[GW_ID_MAX + 1], port[PORT_NAME_MAX + 1];
	char ftx[TOPIC_MAX], frx[TOPIC_MAX];
	struct gw_sub stx, srx;
	uint64_t until;
	struct traffic_ring ring;
	struct fleet *f;
};

struct fleet {
	struct gateway *gw;
	struct web *w;
	char f_status[TOPIC_MAX], f_ports[TOPIC_MAX], f_state[TOPIC_MAX];
	struct gw_sub s_status, s_ports, s_state;
	bool watching, settled, stopping;
	bool seen_self;             /* our own status came back since watch_start */
	bool told_bounds;           /* "left out" logged in this watch */
	uint64_t started, last_msg, last_asked;
	uv_timer_t settle, tick, flush;
	struct fgw **gws;           /* sorted by id */
	size_t ngws, capgws;
	size_t bytes;               /* payload bytes held */
	struct fwatch watch[FLEET_WATCH_MAX];
};


/* fleet.c */
uint64_t fleet__now_ms(struct fleet *f);
bool fleet__id_ok(const char *s, size_t n);      /* [A-Za-z0-9_-]{1,64} */
bool fleet__port_ok(const char *s, size_t n);    /* a port name (CONTRACT §2) */
/* Borrowed; make: create if missing (NULL on no memory). */
struct fgw *fleet__gw_get(struct fleet *f, const char *id, bool make);
struct fstate *fleet__state_get(struct fgw *g, const char *name, bool make);
/* To every websocket client, if any. */
void fleet__send_text(struct fleet *f, const char *s, size_t n);
/* Start watching (or note that someone asked again). */
void fleet__watch_start(struct fleet *f);

#endif
